using System.Globalization;
using System.Text;

namespace Kiln.Templates;

/// <summary>
/// Splits template source into text and tag tokens the way Jinja2 does with trim_blocks, lstrip_blocks
/// and keep_trailing_newline=false, and tokenizes the expressions inside tags.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private int _line = 1;

    private Lexer(string source) => _src = Normalize(source);

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>Newlines become \n and one trailing newline is dropped, as Jinja2 does by default.</summary>
    private static string Normalize(string source)
    {
        var s = source.Replace("\r\n", "\n").Replace('\r', '\n');
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private void Run()
    {
        var lineStarting = true;
        while (_pos < _src.Length)
        {
            var start = FindTagStart(_pos);
            if (start < 0)
            {
                Emit(TokenKind.Text, _src[_pos..]);
                break;
            }
            var text = _src[_pos..start];
            var kind = _src[start + 1];
            var after = start + 2;
            var sign = after < _src.Length && (_src[after] == '-' || _src[after] == '+') ? _src[after] : '\0';
            var textLine = _line;
            if (sign == '-')
            {
                text = PyStr.RStrip(text);
            }
            else if (sign != '+' && kind != '{')
            {
                // lstrip_blocks: drop spaces and tabs between the start of the line and a block or comment tag.
                var lpos = text.LastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && lpos < text.Length && IsAllSpace(text, lpos))
                    text = text[..lpos];
            }
            if (text.Length > 0) _tokens.Add(new Token(TokenKind.Text, text, textLine));
            _line += CountNewlines(_src, _pos, start);
            _pos = after + (sign != '\0' ? 1 : 0);
            lineStarting = kind switch
            {
                '#' => LexComment(),
                '%' => LexTag(TokenKind.BlockBegin, TokenKind.BlockEnd, '%'),
                _ => LexTag(TokenKind.VariableBegin, TokenKind.VariableEnd, '}'),
            };
        }
        _tokens.Add(new Token(TokenKind.Eof, "", _line));
    }

    private int FindTagStart(int from)
    {
        for (var i = from; i + 1 < _src.Length; i++)
        {
            if (_src[i] == '{' && (_src[i + 1] == '{' || _src[i + 1] == '%' || _src[i + 1] == '#')) return i;
        }
        return -1;
    }

    private static bool IsAllSpace(string s, int from)
    {
        for (var i = from; i < s.Length; i++)
            if (!PyStr.IsSpace(s[i])) return false;
        return true;
    }

    private static int CountNewlines(string s, int from, int to)
    {
        var n = 0;
        for (var i = from; i < to; i++) if (s[i] == '\n') n++;
        return n;
    }

    private void Emit(TokenKind kind, string value)
    {
        _tokens.Add(new Token(kind, value, _line));
        _line += CountNewlines(value, 0, value.Length);
    }

    /// <summary>Skips a comment; returns whether the consumed end marker ended with a newline.</summary>
    private bool LexComment()
    {
        var startLine = _line;
        var end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0) throw TemplateException.At(startLine, "missing end of comment tag");
        var markerStart = end > _pos && _src[end - 1] is '-' or '+' ? end - 1 : end;
        _line += CountNewlines(_src, _pos, end);
        _pos = end + 2;
        return ConsumeEnd(_src[markerStart]);
    }

    /// <summary>After an end marker: '-' strips all following whitespace, a plain marker of a block or
    /// comment eats one newline (trim_blocks). Returns whether what was eaten ends with a newline.</summary>
    private bool ConsumeEnd(char marker, bool trimBlock = true)
    {
        var start = _pos;
        if (marker == '-')
        {
            while (_pos < _src.Length && PyStr.IsSpace(_src[_pos])) _pos++;
        }
        else if (marker != '+' && trimBlock && _pos < _src.Length && _src[_pos] == '\n')
        {
            _pos++;
        }
        _line += CountNewlines(_src, start, _pos);
        return _pos > start && _src[_pos - 1] == '\n';
    }

    private bool LexTag(TokenKind begin, TokenKind end, char closer)
    {
        _tokens.Add(new Token(begin, "", _line));
        var stack = new Stack<char>();
        while (true)
        {
            if (_pos >= _src.Length)
                throw TemplateException.At(_line, $"unexpected end of template, expected '{closer}}}'");
            // End markers count only when brackets are balanced, so "{{ {'a': {}}}" still lexes.
            if (stack.Count == 0)
            {
                if (Match("-" + closer + "}"))
                {
                    _tokens.Add(new Token(end, "", _line));
                    _pos += 3;
                    return ConsumeEnd('-');
                }
                if (closer == '%' && Match("+%}"))
                {
                    _tokens.Add(new Token(end, "", _line));
                    _pos += 3;
                    return false;
                }
                if (Match(closer + "}"))
                {
                    _tokens.Add(new Token(end, "", _line));
                    _pos += 2;
                    return ConsumeEnd(' ', trimBlock: closer == '%');
                }
            }
            var c = _src[_pos];
            if (PyStr.IsSpace(c))
            {
                if (c == '\n') _line++;
                _pos++;
            }
            else if (char.IsAsciiDigit(c))
            {
                LexNumber();
            }
            else if (c == '_' || char.IsLetter(c))
            {
                var s = _pos;
                while (_pos < _src.Length && (_src[_pos] == '_' || char.IsLetterOrDigit(_src[_pos]))) _pos++;
                _tokens.Add(new Token(TokenKind.Name, _src[s.._pos], _line));
            }
            else if (c == '\'' || c == '"')
            {
                LexString(c);
            }
            else
            {
                var op = Operators.FirstOrDefault(Match)
                    ?? throw TemplateException.At(_line, $"unexpected char '{c}'");
                switch (op)
                {
                    case "(": stack.Push(')'); break;
                    case "[": stack.Push(']'); break;
                    case "{": stack.Push('}'); break;
                    case ")" or "]" or "}":
                        if (stack.Count == 0) throw TemplateException.At(_line, $"unexpected '{op}'");
                        var expected = stack.Pop();
                        if (expected != op[0]) throw TemplateException.At(_line, $"unexpected '{op}', expected '{expected}'");
                        break;
                }
                _tokens.Add(new Token(TokenKind.Operator, op, _line));
                _pos += op.Length;
            }
        }
    }

    private bool Match(string s) => string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    private void LexNumber()
    {
        var s = _pos;
        SkipDigits();
        var isFloat = false;
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }
        if (_pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E'))
        {
            var save = _pos++;
            if (_pos < _src.Length && (_src[_pos] == '+' || _src[_pos] == '-')) _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                isFloat = true;
                SkipDigits();
            }
            else
            {
                _pos = save;
            }
        }
        var text = _src[s.._pos].Replace("_", "");
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, text, _line));
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1]))))
            _pos++;
    }

    /// <summary>Decodes a string literal with Python's escape rules; unknown escapes are kept verbatim.</summary>
    private void LexString(char quote)
    {
        var startLine = _line;
        var sb = new StringBuilder();
        _pos++;
        while (true)
        {
            if (_pos >= _src.Length) throw TemplateException.At(startLine, "unterminated string literal");
            var c = _src[_pos++];
            if (c == quote) break;
            if (c == '\n') _line++;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= _src.Length) throw TemplateException.At(startLine, "unterminated string literal");
            var e = _src[_pos++];
            switch (e)
            {
                case '\n': _line++; break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': sb.Append(HexEscape(2, startLine)); break;
                case 'u': sb.Append(HexEscape(4, startLine)); break;
                case 'U': sb.Append(HexEscape(8, startLine)); break;
                case >= '0' and <= '7':
                    var value = e - '0';
                    for (var k = 0; k < 2 && _pos < _src.Length && _src[_pos] is >= '0' and <= '7'; k++)
                        value = value * 8 + (_src[_pos++] - '0');
                    sb.Append((char)value);
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        _tokens.Add(new Token(TokenKind.String, sb.ToString(), startLine));
    }

    private string HexEscape(int digits, int line)
    {
        if (_pos + digits > _src.Length
            || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp)
            || cp > 0x10FFFF)
            throw TemplateException.At(line, "invalid escape sequence in string literal");
        _pos += digits;
        return char.ConvertFromUtf32(cp is >= 0xD800 and <= 0xDFFF ? 0xFFFD : cp);
    }
}
