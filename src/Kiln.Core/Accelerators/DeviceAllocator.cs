using Kiln.Core.Deployments;

namespace Kiln.Core.Accelerators;

/// <summary>Chooses the devices a new replica gets: never one another replica holds.</summary>
public static class DeviceAllocator
{
    /// <summary>
    /// <paramref name="count"/> devices of <paramref name="type"/> whose <see cref="AcceleratorDevice.Id"/>
    /// is not in <paramref name="held"/>, lowest index first; null when fewer are free.
    /// </summary>
    public static IReadOnlyList<AcceleratorDevice>? Pick(IReadOnlyList<AcceleratorDevice> devices, AcceleratorType type, int count, IReadOnlySet<string> held)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var free = devices.Where(d => d.Type == type && !held.Contains(d.Id)).OrderBy(d => d.Index).Take(count).ToList();
        return free.Count == count ? free : null;
    }
}
