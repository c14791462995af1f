using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Broker.Transport.Local;

/// <summary>The memory that holds the local broker's locks and values, mapped by the host and by each child: files
/// of <see cref="SlotsPerSegment"/> slots of two 64-bit words in the broker's private directory. The host creates a
/// file when it hands out the first slot in it; a child maps it on first use.</summary>
internal sealed unsafe class SlotMemory(Func<string> directory, bool create) : IDisposable
{
    public const int SlotsPerSegment = 4096;
    private const int SlotSize = 2 * sizeof(long);
    private const long SegmentSize = SlotsPerSegment * SlotSize;
    private readonly System.Threading.Lock _mapping = new();
    private MemoryMappedViewAccessor[] _segments = [];
    private bool _disposed;

    /// <summary>Opens slot <paramref name="index"/> for one operation; dispose the result to end it. Unmapping waits
    /// for operations in progress, so a slot never points into memory that is gone.</summary>
    /// <exception cref="ObjectDisposedException">The transport was disposed.</exception>
    public Slot Open(int index)
    {
        var segment = index / SlotsPerSegment;
        var segments = Volatile.Read(ref _segments);
        var view = segment < segments.Length ? segments[segment] : Map(segment);
        var handle = view.SafeMemoryMappedViewHandle;
        byte* start = null;
        handle.AcquirePointer(ref start);
        return new Slot(handle, start + view.PointerOffset + (long)(index % SlotsPerSegment) * SlotSize);
    }

    private MemoryMappedViewAccessor Map(int segment)
    {
        lock (_mapping)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var segments = _segments;
            if (segment < segments.Length)
            {
                return segments[segment];
            }
            var grown = new MemoryMappedViewAccessor[segment + 1];
            segments.CopyTo(grown, 0);
            for (var i = segments.Length; i <= segment; i++)
            {
                var path = Path.Combine(directory(), $"slots.{i}");
                using var file = MemoryMappedFile.CreateFromFile(path, create ? FileMode.OpenOrCreate : FileMode.Open, null, SegmentSize);
                grown[i] = file.CreateViewAccessor(0, SegmentSize);
            }
            Volatile.Write(ref _segments, grown);
            return grown[segment];
        }
    }

    public void Dispose()
    {
        lock (_mapping)
        {
            _disposed = true;
            foreach (var view in _segments)
            {
                view.Dispose();
            }
            _segments = [];
        }
    }

    /// <summary>One slot, open for one operation: its two words are a lock's holder and fencing token, or a value's
    /// bits.</summary>
    public readonly ref struct Slot
    {
        private readonly SafeMemoryMappedViewHandle _handle;
        private readonly long* _words;

        public Slot(SafeMemoryMappedViewHandle handle, byte* words)
        {
            _handle = handle;
            _words = (long*)words;
        }

        public ref long First => ref _words[0];

        public ref long Second => ref _words[1];

        public void Dispose() => _handle.ReleasePointer();
    }
}
