using Kiln.Engine.Tensors;

namespace Kiln.Engine.Gguf;

/// <summary>
/// Storage geometry of every tensor type the GGUF format defines, so files holding types Kiln
/// cannot compute with still parse (and the model loader can name the unsupported type).
/// </summary>
internal static class GgufStorage
{
    public static (int BlockSize, int BlockBytes)? Layout(GgmlType type) => GgmlTypeInfo.Layout(type) ?? type switch
    {
        GgmlType.I32 => (1, 4),
        GgmlType.I16 => (1, 2),
        GgmlType.I8 => (1, 1),
        GgmlType.I64 or GgmlType.F64 => (1, 8),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.IQ2_XXS => (256, 66),
        GgmlType.IQ2_XS => (256, 74),
        GgmlType.IQ3_XXS => (256, 98),
        GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ3_S => (256, 110),
        GgmlType.IQ2_S => (256, 82),
        GgmlType.IQ4_XS => (256, 136),
        GgmlType.IQ1_M => (256, 56),
        _ => null,
    };
}
