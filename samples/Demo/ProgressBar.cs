namespace Demo;

using Broker;

/// <summary>A map's progress as a bar on one line of <paramref name="output"/>, redrawn as each chunk's results come in.</summary>
public sealed class ProgressBar(TextWriter output) : IProgress<PoolProgress>
{
    private const int Width = 30;
    private readonly System.Threading.Lock _gate = new();
    private int _drawn = -1;

    public void Report(PoolProgress value)
    {
        lock (_gate)
        {
            var total = value.Total ?? value.Done;
            var filled = total == 0 ? Width : value.Done * Width / total;
            if (value.Done == _drawn)
            {
                return;
            }
            _drawn = value.Done;
            output.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {value.Done}/{(value.Total is { } t ? t : "?")}");
            output.Flush();
        }
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish() => output.WriteLine();
}
