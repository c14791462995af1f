// Unix-domain sockets in a 0700 directory and /proc: the local broker is for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
