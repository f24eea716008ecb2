namespace Kiln.Core.Shapes;

/// <summary>One immutable version of a deployment shape, <c>accounts/A/deploymentShapes/S/versions/V</c>.</summary>
/// <param name="Account">The shape's account (<see cref="ShapeName.BuiltInAccount"/> for the server's own).</param>
/// <param name="ShapeId">The shape's ID.</param>
/// <param name="VersionId">The version's ID (<see cref="ShapeSnapshot.VersionId"/>).</param>
/// <param name="Snapshot">What it fixes.</param>
/// <param name="CreateTime">When it was made; versions of a shape sort by it, the newest being <c>latest</c>.</param>
public sealed record ShapeVersion(string Account, string ShapeId, string VersionId, ShapeSnapshot Snapshot, DateTimeOffset CreateTime)
{
    /// <summary>The shape's name, <c>accounts/A/deploymentShapes/S</c>.</summary>
    public string ShapeName => $"accounts/{Account}/deploymentShapes/{ShapeId}";

    /// <summary>The version's name.</summary>
    public string Name => $"{ShapeName}/versions/{VersionId}";

    /// <summary>A version of <paramref name="snapshot"/>, named by its content.</summary>
    public static ShapeVersion Of(string account, string shapeId, ShapeSnapshot snapshot, DateTimeOffset createTime) =>
        new(account, shapeId, snapshot.VersionId(), snapshot, createTime);
}
