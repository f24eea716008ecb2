namespace Kiln.Runtime.Slurm;

/// <summary>Quoting for <c>/bin/sh</c>, which runs a job's <c>--wrap</c> command.</summary>
public static class ShellWords
{
    /// <summary><paramref name="word"/> as one shell word, taken literally: <c>'it'\''s'</c>.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
