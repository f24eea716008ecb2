namespace Kiln.Engine.Tensors;

/// <summary>A compile-time count of rows in a register tile, so the JIT specializes a kernel per tile shape.</summary>
internal interface ISeqCount
{
    static abstract int N { get; }
}

internal struct Seq1 : ISeqCount { public static int N => 1; }

internal struct Seq2 : ISeqCount { public static int N => 2; }

internal struct Seq3 : ISeqCount { public static int N => 3; }

internal struct Seq4 : ISeqCount { public static int N => 4; }

internal struct Seq5 : ISeqCount { public static int N => 5; }

internal struct Seq6 : ISeqCount { public static int N => 6; }

internal struct Seq7 : ISeqCount { public static int N => 7; }

internal struct Seq8 : ISeqCount { public static int N => 8; }
