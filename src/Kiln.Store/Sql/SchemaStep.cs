namespace Kiln.Store.Sql;

/// <summary>
/// One step of a database's schema, applied once in order. A step, once released, never changes:
/// a change is a new step. Each database has its own list; the same version number reaches the same
/// logical schema in every database.
/// </summary>
internal sealed record SchemaStep(int Version, string Description, string Sql);
