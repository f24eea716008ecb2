using System.Globalization;
using Kiln.Core.Errors;

namespace Kiln.Core.Listing;

/// <summary>
/// A parsed list filter, the subset of AIP-160 that Fireworks' list calls take: comparisons
/// <c>field OP value</c> (<c>= != &lt; &lt;= &gt; &gt;=</c>, and <c>:</c> for "contains" on text),
/// combined with <c>AND</c>, <c>OR</c>, <c>NOT</c> (or <c>-</c>) and parentheses; terms side by side
/// mean AND. As AIP-160 specifies, OR binds tighter than AND: <c>a AND b OR c</c> is
/// <c>a AND (b OR c)</c>. Values are string literals (<c>"READY"</c>, <c>'x'</c>), bare words,
/// numbers, <c>true</c>/<c>false</c>; timestamps are RFC 3339 strings. Pure: parse once, then
/// <see cref="Matches"/> each item.
/// </summary>
public sealed class Filter
{
    private readonly Node _root;

    private Filter(Node root) => _root = root;

    /// <summary>The filter that keeps everything (an empty <c>filter</c>).</summary>
    public static Filter All { get; } = new(new AllNode());

    /// <summary>
    /// Parses <paramref name="text"/> over <paramref name="fields"/>; throws INVALID_ARGUMENT on
    /// <c>filter</c> naming the bad token and its position.
    /// </summary>
    public static Filter Parse(string? text, IReadOnlyList<ListField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (string.IsNullOrWhiteSpace(text))
        {
            return All;
        }
        var parser = new Parser(FilterLexer.Tokenize(text, "filter"), fields);
        return new Filter(parser.ParseAll());
    }

    /// <summary>Whether the item whose fields <paramref name="value"/> reads passes.</summary>
    public bool Matches(Func<ListField, FieldValue?> value) => _root.Eval(value);

    private abstract record Node
    {
        public abstract bool Eval(Func<ListField, FieldValue?> value);
    }

    private sealed record AllNode : Node
    {
        public override bool Eval(Func<ListField, FieldValue?> value) => true;
    }

    private sealed record AndNode(Node Left, Node Right) : Node
    {
        public override bool Eval(Func<ListField, FieldValue?> value) => Left.Eval(value) && Right.Eval(value);
    }

    private sealed record OrNode(Node Left, Node Right) : Node
    {
        public override bool Eval(Func<ListField, FieldValue?> value) => Left.Eval(value) || Right.Eval(value);
    }

    private sealed record NotNode(Node Inner) : Node
    {
        public override bool Eval(Func<ListField, FieldValue?> value) => !Inner.Eval(value);
    }

    private sealed record Comparison(ListField Field, string Op, FieldValue Literal) : Node
    {
        public override bool Eval(Func<ListField, FieldValue?> value)
        {
            // An absent value (no display name, say) equals nothing; != holds for it.
            if (value(Field) is not { } actual)
            {
                return Op == "!=";
            }
            if (Op == ":")
            {
                return actual.Text?.Contains(Literal.Text ?? "", StringComparison.Ordinal) ?? false;
            }
            var c = actual.CompareTo(Literal);
            return Op switch
            {
                "=" => c == 0,
                "!=" => c != 0,
                "<" => c < 0,
                "<=" => c <= 0,
                ">" => c > 0,
                _ => c >= 0,
            };
        }
    }

    private sealed class Parser(List<Token> tokens, IReadOnlyList<ListField> fields)
    {
        private int _i;

        private Token Peek => tokens[_i];

        public Node ParseAll()
        {
            var node = ParseAnd();
            if (Peek.Kind == TokenKind.RParen)
            {
                throw FilterLexer.Error("filter", $"unexpected ')' at position {Peek.Position}: it closes no '('");
            }
            if (Peek.Kind != TokenKind.End)
            {
                throw Unexpected(Peek, "AND, OR or the end of the filter");
            }
            return node;
        }

        // AIP-160: a sequence of terms (AND, or side by side) of OR-groups.
        private Node ParseAnd()
        {
            var node = ParseOr();
            while (true)
            {
                if (Peek.Kind == TokenKind.And)
                {
                    _i++;
                    node = new AndNode(node, ParseOr());
                }
                else if (Peek.Kind is TokenKind.Word or TokenKind.Not or TokenKind.Minus or TokenKind.LParen)
                {
                    node = new AndNode(node, ParseOr());
                }
                else
                {
                    return node;
                }
            }
        }

        private Node ParseOr()
        {
            var node = ParseUnary();
            while (Peek.Kind == TokenKind.Or)
            {
                _i++;
                node = new OrNode(node, ParseUnary());
            }
            return node;
        }

        private Node ParseUnary()
        {
            if (Peek.Kind is TokenKind.Not or TokenKind.Minus)
            {
                _i++;
                return new NotNode(ParseUnary());
            }
            if (Peek.Kind == TokenKind.LParen)
            {
                var open = tokens[_i++];
                var inner = ParseAnd();
                if (Peek.Kind != TokenKind.RParen)
                {
                    throw Unexpected(Peek, $"')' (to close the '(' at position {open.Position})");
                }
                _i++;
                return inner;
            }
            return ParseComparison();
        }

        private Comparison ParseComparison()
        {
            var name = tokens[_i];
            if (name.Kind != TokenKind.Word)
            {
                throw Unexpected(name, "a field name");
            }
            var field = ListField.Find(fields, name.Text) ?? throw FilterLexer.Error("filter",
                $"unknown field '{name.Text}' at position {name.Position}; known: {string.Join(", ", fields.Select(f => f.Name))}");
            _i++;
            var op = tokens[_i];
            if (op.Kind != TokenKind.Op)
            {
                throw Unexpected(op, $"an operator (=, !=, <, <=, >, >=, :) after '{name.Text}'");
            }
            _i++;
            var literal = tokens[_i];
            if (literal.Kind is not (TokenKind.Word or TokenKind.String))
            {
                throw Unexpected(literal, $"a value after '{name.Text} {op.Text}'");
            }
            _i++;
            return new Comparison(field, op.Text, Literal(field, op, literal));
        }

        private static FieldValue Literal(ListField field, Token op, Token literal)
        {
            KilnError Bad(string what) => FilterLexer.Error("filter",
                $"{field.Name} {what}, got {literal.Shown} at position {literal.Position}");
            if (op.Text == ":" && field.Kind != ListFieldKind.String)
            {
                throw FilterLexer.Error("filter", $"':' (contains) applies to text fields; {field.Name} at position {op.Position} takes =, != and comparisons");
            }
            if (field.Kind is ListFieldKind.Enum or ListFieldKind.Bool && op.Text is not ("=" or "!="))
            {
                throw FilterLexer.Error("filter", $"{field.Name} takes only = and != (position {op.Position})");
            }
            switch (field.Kind)
            {
                case ListFieldKind.Enum:
                    var known = field.Values ?? [];
                    return known.FirstOrDefault(v => string.Equals(v, literal.Text, StringComparison.OrdinalIgnoreCase)) is { } v
                        ? FieldValue.Of(v, ListFieldKind.Enum)
                        : throw Bad($"is one of {string.Join(", ", known)}");
                case ListFieldKind.Timestamp:
                    return DateTimeOffset.TryParse(literal.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
                        && literal.Text.Contains('T', StringComparison.Ordinal)
                        ? FieldValue.Of(t)
                        : throw Bad("compares with an RFC 3339 time such as \"2026-11-21T09:30:00Z\"");
                case ListFieldKind.Number:
                    return double.TryParse(literal.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n)
                        ? FieldValue.Of(n)
                        : throw Bad("compares with a number");
                case ListFieldKind.Bool:
                    return bool.TryParse(literal.Text, out var b) ? FieldValue.Of(b) : throw Bad("is true or false");
                default:
                    return FieldValue.Of(literal.Text);
            }
        }

        private static KilnError Unexpected(Token token, string expected) =>
            FilterLexer.Error("filter", $"expected {expected} at position {token.Position}, got {token.Shown}");
    }
}
