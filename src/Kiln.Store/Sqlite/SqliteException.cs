namespace Kiln.Store.Sqlite;

/// <summary>A failed SQLite call, with its (extended) result code and SQLite's message.</summary>
internal sealed class SqliteException(int resultCode, int extendedCode, string message) : Exception(message)
{
    private const int Constraint = 19;
    private const int ConstraintForeignKey = 787;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;
    private const int Busy = 5;

    /// <summary>The primary result code (SQLITE_CONSTRAINT = 19, SQLITE_BUSY = 5, ...).</summary>
    public int ResultCode { get; } = resultCode;

    /// <summary>The extended result code (SQLITE_CONSTRAINT_UNIQUE = 2067, ...).</summary>
    public int ExtendedCode { get; } = extendedCode;

    /// <summary>A primary-key or unique constraint rejected a row.</summary>
    public bool IsDuplicate => ExtendedCode is ConstraintPrimaryKey or ConstraintUnique;

    /// <summary>A foreign key points at a missing row.</summary>
    public bool IsForeignKey => ExtendedCode == ConstraintForeignKey;

    /// <summary>Any constraint violation.</summary>
    public bool IsConstraint => ResultCode == Constraint;

    /// <summary>The database stayed locked past the busy timeout.</summary>
    public bool IsBusy => ResultCode == Busy;
}
