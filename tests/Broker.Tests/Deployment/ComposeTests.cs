namespace Broker.Tests.Deployment;

using System.Diagnostics;

/// <summary>docker-compose.yml, checked offline by Debian's docker-compose (there is no Docker engine here to run
/// it): it parses, names the services the README describes, and its worker runs the host the tests run.</summary>
public sealed class ComposeTests
{
    private static readonly string Root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));

    [Fact]
    public async Task The_compose_file_is_valid_and_has_a_scalable_worker_beside_the_brokers_and_the_producer()
    {
        var (exitCode, output) = await ComposeAsync("config", "-q");
        Assert.True(exitCode == 0, output);

        (exitCode, output) = await ComposeAsync("config", "--services");
        Assert.True(exitCode == 0, output);
        Assert.Equal(["demo", "rabbitmq", "redis", "worker"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        (exitCode, output) = await ComposeAsync("config");
        Assert.Contains("/app/demo/Demo.dll", output);
        Assert.DoesNotContain("container_name", output); // a fixed name would stop --scale worker=4
    }

    private static async Task<(int ExitCode, string Output)> ComposeAsync(params string[] args)
    {
        var info = new ProcessStartInfo("docker-compose") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("docker-compose is not installed: ./test.sh installs it (apt-get install docker-compose).", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await errors);
        }
    }
}
