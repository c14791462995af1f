using Broker.WorkerHost;

if (args is [ChildHost.Flag])
{
    return ChildHost.Run();
}

Console.Error.WriteLine($"usage: Broker.WorkerHost {ChildHost.Flag}");
Console.Error.WriteLine("  Runs one child process for Broker's launcher, which writes the process spec to standard input.");
return 2;
