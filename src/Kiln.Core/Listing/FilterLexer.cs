using System.Text;
using Kiln.Core.Errors;

namespace Kiln.Core.Listing;

internal enum TokenKind { Word, String, Op, LParen, RParen, And, Or, Not, Minus, End }

/// <summary>One token of a filter, with its 1-based position for error messages.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Position)
{
    public string Shown => Kind == TokenKind.End ? "the end of the filter" : Kind == TokenKind.String ? $"\"{Text}\"" : $"'{Text}'";
}

/// <summary>Splits an AIP-160 filter into tokens.</summary>
internal static class FilterLexer
{
    public static List<Token> Tokenize(string text, string parameter)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var at = i + 1;
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '(' || c == ')')
            {
                tokens.Add(new(c == '(' ? TokenKind.LParen : TokenKind.RParen, c.ToString(), at));
                i++;
            }
            else if (c is '=' or ':' or '<' or '>' or '!')
            {
                var two = i + 1 < text.Length && text[i + 1] == '=' && c != '=' && c != ':';
                var op = two ? text.Substring(i, 2) : c.ToString();
                if (op == "!")
                {
                    throw Error(parameter, $"unexpected '!' at position {at}; write != for \"not equal\" or NOT before a term");
                }
                tokens.Add(new(TokenKind.Op, op, at));
                i += op.Length;
            }
            else if (c is '"' or '\'')
            {
                var sb = new StringBuilder();
                var j = i + 1;
                for (; j < text.Length && text[j] != c; j++)
                {
                    if (text[j] == '\\' && j + 1 < text.Length)
                    {
                        j++;
                    }
                    sb.Append(text[j]);
                }
                if (j >= text.Length)
                {
                    throw Error(parameter, $"unterminated string starting at position {at}");
                }
                tokens.Add(new(TokenKind.String, sb.ToString(), at));
                i = j + 1;
            }
            else if (c == '-' && (i + 1 >= text.Length || !char.IsDigit(text[i + 1])))
            {
                tokens.Add(new(TokenKind.Minus, "-", at));
                i++;
            }
            else
            {
                var j = i;
                while (j < text.Length && !char.IsWhiteSpace(text[j]) && text[j] is not ('(' or ')' or '=' or ':' or '<' or '>' or '!' or '"' or '\''))
                {
                    j++;
                }
                var word = text[i..j];
                var kind = word switch
                {
                    "AND" => TokenKind.And,
                    "OR" => TokenKind.Or,
                    "NOT" => TokenKind.Not,
                    _ => TokenKind.Word,
                };
                tokens.Add(new(kind, word, at));
                i = j;
            }
        }
        tokens.Add(new(TokenKind.End, "", text.Length + 1));
        return tokens;
    }

    public static KilnError Error(string parameter, string message) =>
        KilnError.InvalidArgument([new FieldViolation(parameter, message)]);
}
