using System.Runtime.InteropServices;

namespace Kiln.Engine.Models;

/// <summary>
/// Native blocks backed by transparent huge pages on Linux where the system allows them (blocks under
/// 2 MiB, other systems and a refused advice get ordinary pages). Writing fresh 4 KiB pages of the KV
/// cache and the prefix cache's arena cost the first requests after a load a fifth of their CPU time
/// in page faults (about 33,000 for a 110M model's first burst of 8 x 128 tokens); a 2 MiB page takes
/// one fault where 512 were.
/// </summary>
internal static unsafe class HugePageMemory
{
    private const int HugePage = 2 << 20;
    private const int MadviseHugePage = 14;

    public static void* Alloc(long bytes)
    {
        var huge = bytes >= HugePage;
        var block = NativeMemory.AlignedAlloc((nuint)bytes, huge ? (nuint)HugePage : 64);
        if (huge && OperatingSystem.IsLinux()) _ = madvise((nint)block, (nuint)bytes, MadviseHugePage);
        return block;
    }

    public static void Free(void* block) => NativeMemory.AlignedFree(block);

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);
}
