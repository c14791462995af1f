namespace Broker.Tests.Packaging;

using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

/// <summary>Broker as a user gets it: every package packed into a folder feed, and a fresh console application, outside
/// the repository, that references them by <c>PackageReference</c> and runs the README's sample word for word, on the
/// embedded broker, then on Redis, then published as a single file; and a fresh xunit project that runs the sample
/// test of docs/testing.md on Broker.Testing's Redis fixture.</summary>
[Collection(RedisCollection.Name)]
public sealed partial class PackageTests(RedisFixture redis) : IDisposable
{
    private static readonly string s_repository = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
    private static readonly string s_configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!);

    /// <summary>A version of its own for every run, so that the machine's package cache never serves an earlier run's.</summary>
    private readonly string _version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("broker-packages-");

    [Fact]
    public async Task The_packages_install_the_READMEs_sample_runs_on_local_and_Redis_and_as_a_single_file_and_a_users_test_passes()
    {
        var feed = Path.Combine(_work.FullName, "feed");
        await RunAsync(s_repository, "dotnet", "pack", "Broker.sln", "--no-build", "-c", s_configuration, "-o", feed, $"-p:PackageVersion={_version}");
        AssertPackages(feed);

        var app = NewProject("app", feed);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Broker" Version="{_version}" />
                <PackageReference Include="Broker.Transport.Redis" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), FirstCSharpBlockOf("README.md"));

        await RunAsync(app, "dotnet", "build", "-c", "Release");
        var built = Path.Combine(app, "bin", "Release", "net10.0", "App.dll");
        AssertConsumedEveryItem(await RunAsync(app, "dotnet", built));
        AssertConsumedEveryItem(await RunAsync(app, "dotnet", [built], (BrokerContext.UrlVariable, redis.Url)));

        var single = Path.Combine(_work.FullName, "single");
        await RunAsync(app, "dotnet", "publish", "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-p:PublishSingleFile=true", "-o", single);
        Assert.False(File.Exists(Path.Combine(single, "Broker.dll")), "a single-file publish keeps Broker.dll inside the executable");
        AssertConsumedEveryItem(await RunAsync(app, Path.Combine(single, "App")));

        var tests = NewProject("tests", feed);
        File.WriteAllText(Path.Combine(tests, "UserTests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Broker.Testing" Version="{_version}" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{RepositoryVersionOf("Microsoft.NET.Test.Sdk")}" />
                <PackageReference Include="xunit" Version="{RepositoryVersionOf("xunit")}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{RepositoryVersionOf("xunit.runner.visualstudio")}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(tests, "OrderTests.cs"), FirstCSharpBlockOf(Path.Combine("docs", "testing.md")));
        var run = await RunAsync(tests, "dotnet", ["test", "-c", "Release"], (RedisFixture.ServerVariable, redis.ServerUrl));
        Assert.Matches(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+1\b", run);
    }

    /// <summary>A folder outside the repository whose packages come from <paramref name="feed"/> and nuget.org.</summary>
    private string NewProject(string name, string feed)
    {
        var project = Directory.CreateDirectory(Path.Combine(_work.FullName, name)).FullName;
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <add key="broker" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return project;
    }

    /// <summary>The version the repository's own projects use of <paramref name="id"/>.</summary>
    private static string RepositoryVersionOf(string id) =>
        (string)XDocument.Load(Path.Combine(s_repository, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == id).Attribute("Version")!;

    /// <summary>The core package holds the API, the embedded broker and the launcher, and no broker's client; each
    /// package carries its README, its XML docs and its symbols; the worker host and the broker command are tools.</summary>
    private void AssertPackages(string feed)
    {
        string[] libraries = ["Broker", "Broker.Abstractions", "Broker.Extensions.Hosting", "Broker.OpenTelemetry", "Broker.Testing", "Broker.Transport.Local", "Broker.Transport.Redis", "Broker.Transport.RabbitMq"];
        string[] tools = ["Broker.WorkerHost", "Broker.Cli"];
        foreach (var id in libraries.Concat(tools))
        {
            var package = Path.Combine(feed, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(package), $"{id} was not packed");
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"{id} has no symbol package");
            using var zip = ZipFile.OpenRead(package);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", names);
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            Assert.False(string.IsNullOrWhiteSpace(Element(nuspec, "description")), $"{id} has no description");
            Assert.Equal("README.md", Element(nuspec, "readme"));
            if (tools.Contains(id))
            {
                Assert.Equal("DotnetTool", nuspec.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")?.Value);
                continue;
            }
            Assert.Contains($"lib/net10.0/{id}.dll", names);
            Assert.Contains($"lib/net10.0/{id}.xml", names);
        }
        Assert.Equal(["Broker.Abstractions", "Broker.Transport.Local", "Microsoft.Extensions.DependencyInjection.Abstractions",
            "Microsoft.Extensions.Logging.Abstractions", "Polly.Core"], Closure(feed, "Broker"));
    }

    /// <summary>Every package <paramref name="id"/> depends on, directly or through the feed's other packages.</summary>
    private List<string> Closure(string feed, string id)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([id]);
        while (pending.TryPop(out var next))
        {
            var package = Path.Combine(feed, $"{next}.{_version}.nupkg");
            if (!File.Exists(package))
            {
                continue;
            }
            using var zip = ZipFile.OpenRead(package);
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            foreach (var dependency in nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!))
            {
                if (found.Add(dependency))
                {
                    pending.Push(dependency);
                }
            }
        }
        return [.. found];
    }

    private static string? Element(XDocument nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>The first C# block of a page of the repository's, as a user copies it.</summary>
    private static string FirstCSharpBlockOf(string page) =>
        FirstCSharpBlock().Match(File.ReadAllText(Path.Combine(s_repository, page))) is { Success: true } block
            ? block.Groups[1].Value
            : throw new InvalidOperationException($"{page} has no C# block");

    private static void AssertConsumedEveryItem(string output)
    {
        var got = output.Split('\n').Where(l => l.Contains(" got ", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[^1]).Order().ToList();
        Assert.True(got.SequenceEqual(["a", "b", "c"]), $"the sample printed:\n{output}");
    }

    private static Task<string> RunAsync(string directory, string program, params string[] args) => RunAsync(directory, program, args, []);

    private static async Task<string> RunAsync(string directory, string program, string[] args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove(BrokerContext.UrlVariable);
        // The test host's own settings would steer the build of the fresh application.
        foreach (var variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
        {
            info.Environment.Remove(variable);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} took more than 4 minutes:\n{await output}\n{await errors}");
        }
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await output}\n{await errors}");
        return await output;
    }

    public void Dispose()
    {
        _work.Delete(recursive: true);
        // The run's own version of each package, extracted into the machine's package cache, goes with it.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "broker", "broker.abstractions", "broker.extensions.hosting", "broker.opentelemetry", "broker.testing", "broker.transport.local", "broker.transport.redis", "broker.transport.rabbitmq", "broker.workerhost" })
        {
            var extracted = new DirectoryInfo(Path.Combine(cache, id, _version));
            if (extracted.Exists)
            {
                extracted.Delete(recursive: true);
            }
        }
    }

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FirstCSharpBlock();
}
