using System.Globalization;

namespace Kiln.Templates;

/// <summary>Recursive-descent parser from tokens to the AST, following Jinja2's grammar and precedence.</summary>
internal sealed class Parser
{
    /// <summary>Bounds nesting of expressions and blocks so hostile input cannot exhaust the stack.</summary>
    internal const int MaxDepth = 100;

    private static readonly HashSet<string> CompareOps = ["==", "!=", ">", ">=", "<", "<="];

    private readonly List<Token> _tokens;
    private int _pos;
    private int _depth;
    private int _loopDepth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static List<Node> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        return parser.SubParse(null, out _);
    }

    private Token Cur => _tokens[_pos];

    private Token Peek => _tokens[Math.Min(_pos + 1, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private TemplateException Error(string message, Token? at = null) => TemplateException.At((at ?? Cur).Line, message);

    private void Expect(TokenKind kind)
    {
        if (Cur.Kind != kind) throw Error($"expected {new Token(kind, "", 0)}, got {Cur}");
        Next();
    }

    private void ExpectOp(string op)
    {
        if (!Cur.IsOp(op)) throw Error($"expected '{op}', got {Cur}");
        Next();
    }

    private string ExpectName()
    {
        if (Cur.Kind != TokenKind.Name) throw Error($"expected a name, got {Cur}");
        return Next().Value;
    }

    private void Enter()
    {
        if (++_depth > MaxDepth) throw Error("template nested too deeply");
    }

    // ---- statements --------------------------------------------------------------------------

    /// <summary>Parses nodes until one of <paramref name="endTags"/> opens a block tag; the tag name is consumed.</summary>
    private List<Node> SubParse(string[]? endTags, out string endTag)
    {
        var nodes = new List<Node>();
        while (true)
        {
            var tok = Cur;
            switch (tok.Kind)
            {
                case TokenKind.Eof:
                    if (endTags is not null)
                        throw Error($"unexpected end of template, expected {string.Join(" or ", endTags.Select(t => $"'{t}'"))}");
                    endTag = "";
                    return nodes;
                case TokenKind.Text:
                    nodes.Add(new TextNode(tok.Value, tok.Line));
                    Next();
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    nodes.Add(new OutputNode(ParseTuple(), tok.Line));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    Next();
                    if (Cur.Kind == TokenKind.Name && endTags is not null && endTags.Contains(Cur.Value))
                    {
                        endTag = Next().Value;
                        return nodes;
                    }
                    nodes.Add(ParseStatement());
                    break;
                default:
                    throw Error($"unexpected {tok}");
            }
        }
    }

    private Node ParseStatement()
    {
        var tok = Cur;
        if (tok.Kind != TokenKind.Name) throw Error($"expected a tag name, got {tok}");
        Enter();
        try
        {
            Next();
            switch (tok.Value)
            {
                case "if": return ParseIf(tok.Line);
                case "for": return ParseFor(tok.Line);
                case "set": return ParseSet(tok.Line);
                case "macro": return ParseMacro(tok.Line);
                case "call": return ParseCallBlock(tok.Line);
                case "filter":
                    {
                        var filters = ParseFilterChain(null);
                        Expect(TokenKind.BlockEnd);
                        var body = SubParse(["endfilter"], out _);
                        Expect(TokenKind.BlockEnd);
                        return new FilterBlockNode(filters, body, tok.Line);
                    }
                case "break" or "continue":
                    if (_loopDepth == 0) throw Error($"'{tok.Value}' outside of a loop", tok);
                    Expect(TokenKind.BlockEnd);
                    return tok.Value == "break" ? new BreakNode(tok.Line) : new ContinueNode(tok.Line);
                default:
                    throw Error($"unknown tag '{tok.Value}'", tok);
            }
        }
        finally
        {
            _depth--;
        }
    }

    private IfNode ParseIf(int line)
    {
        var branches = new List<(Expr, List<Node>)>();
        List<Node>? elseBody = null;
        var test = ParseTuple(withCondExpr: false);
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var body = SubParse(["elif", "else", "endif"], out var end);
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseTuple(withCondExpr: false);
                continue;
            }
            if (end == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = SubParse(["endif"], out _);
            }
            Expect(TokenKind.BlockEnd);
            return new IfNode(branches, elseBody, line);
        }
    }

    private ForNode ParseFor(int line)
    {
        var target = ParseTarget(allowAttr: false);
        if (!Cur.IsName("in")) throw Error($"expected 'in', got {Cur}");
        Next();
        var iter = ParseTuple(withCondExpr: false, extraEnd: ["recursive"]);
        Expr? filter = null;
        if (Cur.IsName("if"))
        {
            Next();
            filter = ParseExpression();
        }
        var recursive = false;
        if (Cur.IsName("recursive"))
        {
            Next();
            recursive = true;
        }
        Expect(TokenKind.BlockEnd);
        _loopDepth++;
        var body = SubParse(["endfor", "else"], out var end);
        _loopDepth--;
        List<Node>? elseBody = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = SubParse(["endfor"], out _);
        }
        Expect(TokenKind.BlockEnd);
        return new ForNode(target, iter, filter, body, elseBody, recursive, line);
    }

    private Node ParseSet(int line)
    {
        var target = ParseTarget(allowAttr: true);
        if (Cur.IsOp("="))
        {
            Next();
            var value = ParseTuple();
            Expect(TokenKind.BlockEnd);
            return new SetNode(target, value, line);
        }
        var filters = Cur.IsOp("|") ? ParseFilterChain(null) : [];
        Expect(TokenKind.BlockEnd);
        var body = SubParse(["endset"], out _);
        Expect(TokenKind.BlockEnd);
        return new SetBlockNode(target, body, filters, line);
    }

    private MacroNode ParseMacro(int line)
    {
        var name = ExpectName();
        var parameters = ParseParameters();
        Expect(TokenKind.BlockEnd);
        var savedLoops = _loopDepth;
        _loopDepth = 0;
        var body = SubParse(["endmacro"], out _);
        _loopDepth = savedLoops;
        if (Cur.Kind == TokenKind.Name && Cur.Value == name) Next();
        Expect(TokenKind.BlockEnd);
        return new MacroNode(name, parameters, body, line);
    }

    private CallBlockNode ParseCallBlock(int line)
    {
        var parameters = Cur.IsOp("(") ? ParseParameters() : [];
        var call = ParseExpression() as CallExpr ?? throw Error("expected a call in the call block", Cur);
        Expect(TokenKind.BlockEnd);
        var savedLoops = _loopDepth;
        _loopDepth = 0;
        var body = SubParse(["endcall"], out _);
        _loopDepth = savedLoops;
        Expect(TokenKind.BlockEnd);
        return new CallBlockNode(call, parameters, body, line);
    }

    private List<(string, Expr?)> ParseParameters()
    {
        var parameters = new List<(string, Expr?)>();
        ExpectOp("(");
        while (!Cur.IsOp(")"))
        {
            if (parameters.Count > 0) ExpectOp(",");
            if (Cur.IsOp(")")) break;
            var pname = ExpectName();
            Expr? dflt = null;
            if (Cur.IsOp("="))
            {
                Next();
                dflt = ParseExpression();
            }
            else if (parameters.Count > 0 && parameters[^1].Item2 is not null)
            {
                throw Error("parameter without a default follows one with a default");
            }
            parameters.Add((pname, dflt));
        }
        Next();
        return parameters;
    }

    private Target ParseTarget(bool allowAttr)
    {
        var line = Cur.Line;
        var items = new List<Target>();
        while (true)
        {
            if (items.Count > 0)
            {
                if (!Cur.IsOp(",")) break;
                Next();
                if (Cur.IsName("in") || Cur.IsOp("=")) break;
            }
            items.Add(ParseSingleTarget(allowAttr && items.Count == 0));
        }
        return items.Count == 1 && !_tokens[_pos - 1].IsOp(",") ? items[0] : new TupleTarget(items, line);
    }

    private Target ParseSingleTarget(bool allowAttr)
    {
        var line = Cur.Line;
        if (Cur.IsOp("("))
        {
            Next();
            var inner = ParseTarget(false);
            ExpectOp(")");
            return inner;
        }
        var name = ExpectName();
        if (name is "true" or "false" or "none" or "True" or "False" or "None")
            throw Error($"cannot assign to '{name}'");
        if (allowAttr && Cur.IsOp("."))
        {
            Next();
            return new AttrTarget(name, ExpectName(), line);
        }
        return new NameTarget(name, line);
    }

    // ---- expressions -------------------------------------------------------------------------

    private bool IsTupleEnd(string[]? extraEnd) =>
        Cur.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.Eof || Cur.IsOp(")")
        || (extraEnd is not null && Cur.Kind == TokenKind.Name && extraEnd.Contains(Cur.Value));

    /// <summary>An expression or a bare comma-separated tuple.</summary>
    private Expr ParseTuple(bool withCondExpr = true, string[]? extraEnd = null, bool explicitParens = false)
    {
        var line = Cur.Line;
        var items = new List<Expr>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOp(",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
            if (Cur.IsOp(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count == 1) return items[0];
            if (!explicitParens) throw Error($"expected an expression, got {Cur}");
        }
        return new TupleExpr(items, line);
    }

    private Expr ParseExpression()
    {
        Enter();
        try
        {
            var line = Cur.Line;
            var expr = ParseOr();
            while (Cur.IsName("if"))
            {
                Next();
                var test = ParseOr();
                Expr? otherwise = null;
                if (Cur.IsName("else"))
                {
                    Next();
                    otherwise = ParseExpression();
                }
                expr = new CondExpr(test, expr, otherwise, line);
            }
            return expr;
        }
        finally
        {
            _depth--;
        }
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Cur.IsName("or"))
        {
            var line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Cur.IsName("and"))
        {
            var line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!Cur.IsName("not")) return ParseCompare();
        var line = Next().Line;
        Enter();
        try
        {
            return new UnaryExpr("not", ParseNot(), line);
        }
        finally
        {
            _depth--;
        }
    }

    private Expr ParseCompare()
    {
        var line = Cur.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Cur.Kind == TokenKind.Operator && CompareOps.Contains(Cur.Value))
            {
                var op = Next().Value;
                rest.Add((op, ParseMath1()));
            }
            else if (Cur.IsName("in"))
            {
                Next();
                rest.Add(("in", ParseMath1()));
            }
            else if (Cur.IsName("not") && Peek.IsName("in"))
            {
                Next();
                Next();
                rest.Add(("not in", ParseMath1()));
            }
            else
            {
                break;
            }
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Cur.IsOp("+") || Cur.IsOp("-"))
        {
            var tok = Next();
            left = new BinaryExpr(tok.Value, left, ParseConcat(), tok.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var line = Cur.Line;
        var parts = new List<Expr> { ParseMath2() };
        while (Cur.IsOp("~"))
        {
            Next();
            parts.Add(ParseMath2());
        }
        return parts.Count == 1 ? parts[0] : new ConcatExpr(parts, line);
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Cur.IsOp("*") || Cur.IsOp("/") || Cur.IsOp("//") || Cur.IsOp("%"))
        {
            var tok = Next();
            left = new BinaryExpr(tok.Value, left, ParsePow(), tok.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary();
        while (Cur.IsOp("**"))
        {
            var tok = Next();
            left = new BinaryExpr("**", left, ParseUnary(), tok.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        Enter();
        try
        {
            Expr node;
            if (Cur.IsOp("-") || Cur.IsOp("+"))
            {
                var tok = Next();
                node = new UnaryExpr(tok.Value, ParseUnary(false), tok.Line);
            }
            else
            {
                node = ParsePrimary();
            }
            node = ParsePostfix(node);
            return withFilter ? ParseFilterExpr(node) : node;
        }
        finally
        {
            _depth--;
        }
    }

    private Expr ParsePrimary()
    {
        var tok = Cur;
        switch (tok.Kind)
        {
            case TokenKind.Name:
                Next();
                return tok.Value switch
                {
                    "true" or "True" => new ConstExpr(true, tok.Line),
                    "false" or "False" => new ConstExpr(false, tok.Line),
                    "none" or "None" => new ConstExpr(null, tok.Line),
                    _ => new NameExpr(tok.Value, tok.Line),
                };
            case TokenKind.String:
                {
                    var s = Next().Value;
                    while (Cur.Kind == TokenKind.String) s += Next().Value;
                    return new ConstExpr(s, tok.Line);
                }
            case TokenKind.Integer:
                Next();
                if (!long.TryParse(tok.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                    throw Error("integer literal too large", tok);
                return new ConstExpr(l, tok.Line);
            case TokenKind.Float:
                Next();
                return new ConstExpr(double.Parse(tok.Value, NumberStyles.Float, CultureInfo.InvariantCulture), tok.Line);
            case TokenKind.Operator when tok.Value == "(":
                {
                    Next();
                    var e = ParseTuple(explicitParens: true);
                    ExpectOp(")");
                    return e;
                }
            case TokenKind.Operator when tok.Value == "[":
                {
                    Next();
                    var items = new List<Expr>();
                    while (!Cur.IsOp("]"))
                    {
                        if (items.Count > 0) ExpectOp(",");
                        if (Cur.IsOp("]")) break;
                        items.Add(ParseExpression());
                    }
                    Next();
                    return new ListExpr(items, tok.Line);
                }
            case TokenKind.Operator when tok.Value == "{":
                {
                    Next();
                    var items = new List<(Expr, Expr)>();
                    while (!Cur.IsOp("}"))
                    {
                        if (items.Count > 0) ExpectOp(",");
                        if (Cur.IsOp("}")) break;
                        var key = ParseExpression();
                        ExpectOp(":");
                        items.Add((key, ParseExpression()));
                    }
                    Next();
                    return new DictExpr(items, tok.Line);
                }
            default:
                throw Error($"unexpected {tok}");
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Cur.IsOp(".") || Cur.IsOp("[")) node = ParseSubscript(node);
            else if (Cur.IsOp("(")) node = new CallExpr(node, ParseCallArgs(), Cur.Line);
            else return node;
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Cur.IsOp("|")) node = ParseFilterChain(node)[^1];
            else if (Cur.IsName("is")) node = ParseTest(node);
            else if (Cur.IsOp("(")) node = new CallExpr(node, ParseCallArgs(), Cur.Line);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        var tok = Next();
        if (tok.Value == ".")
        {
            if (Cur.Kind == TokenKind.Name) return new AttrExpr(node, Next().Value, tok.Line);
            if (Cur.Kind == TokenKind.Integer) return new ItemExpr(node, ParsePrimary(), tok.Line);
            throw Error($"expected an attribute name, got {Cur}");
        }
        var args = new List<Expr>();
        while (!Cur.IsOp("]"))
        {
            if (args.Count > 0) ExpectOp(",");
            args.Add(ParseSubscribed());
        }
        Next();
        return new ItemExpr(node, args.Count == 1 ? args[0] : new TupleExpr(args, tok.Line), tok.Line);
    }

    private Expr ParseSubscribed()
    {
        var line = Cur.Line;
        Expr? start = null;
        if (Cur.IsOp(":"))
        {
            Next();
        }
        else
        {
            start = ParseExpression();
            if (!Cur.IsOp(":")) return start;
            Next();
        }
        Expr? stop = null, step = null;
        if (!Cur.IsOp("]") && !Cur.IsOp(",") && !Cur.IsOp(":")) stop = ParseExpression();
        if (Cur.IsOp(":"))
        {
            Next();
            if (!Cur.IsOp("]") && !Cur.IsOp(",")) step = ParseExpression();
        }
        return new SliceExpr(start, stop, step, line);
    }

    private CallArgs ParseCallArgs()
    {
        ExpectOp("(");
        var positional = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        Expr? star = null, doubleStar = null;
        var first = true;
        while (!Cur.IsOp(")"))
        {
            if (!first) ExpectOp(",");
            first = false;
            if (Cur.IsOp(")")) break;
            if (Cur.IsOp("*"))
            {
                Next();
                star = ParseExpression();
            }
            else if (Cur.IsOp("**"))
            {
                Next();
                doubleStar = ParseExpression();
            }
            else if (Cur.Kind == TokenKind.Name && Peek.IsOp("="))
            {
                var key = Next().Value;
                Next();
                keywords.Add((key, ParseExpression()));
            }
            else
            {
                if (keywords.Count > 0 || star is not null || doubleStar is not null)
                    throw Error("positional argument follows keyword argument");
                positional.Add(ParseExpression());
            }
        }
        Next();
        return new CallArgs(positional, keywords, star, doubleStar);
    }

    /// <summary>Parses `| f(args) | g ...`; with a null start the chain begins without a pipe (filter blocks).</summary>
    private List<FilterExpr> ParseFilterChain(Expr? node)
    {
        var chain = new List<FilterExpr>();
        var inline = node is null;
        while (Cur.IsOp("|") || inline)
        {
            if (!inline) Next();
            inline = false;
            var tok = Cur;
            var name = ExpectName();
            while (Cur.IsOp("."))
            {
                Next();
                name += "." + ExpectName();
            }
            if (!Filters.Exists(name)) throw Error($"no filter named '{name}'", tok);
            var args = Cur.IsOp("(") ? ParseCallArgs() : CallArgs.None;
            var filter = new FilterExpr(chain.Count > 0 ? chain[^1] : node, name, args, tok.Line);
            chain.Add(filter);
        }
        return chain;
    }

    private Expr ParseTest(Expr node)
    {
        var line = Next().Line;
        var negated = false;
        if (Cur.IsName("not"))
        {
            Next();
            negated = true;
        }
        var name = ExpectName();
        while (Cur.IsOp("."))
        {
            Next();
            name += "." + ExpectName();
        }
        if (!Tests.Exists(name)) throw Error($"no test named '{name}'");
        var args = CallArgs.None;
        if (Cur.IsOp("("))
        {
            args = ParseCallArgs();
        }
        else if ((Cur.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || Cur.IsOp("[") || Cur.IsOp("{"))
                 && !Cur.IsName("else") && !Cur.IsName("or") && !Cur.IsName("and"))
        {
            if (Cur.IsName("is")) throw Error("cannot chain multiple tests with 'is'");
            args = new CallArgs([ParsePostfix(ParsePrimary())], [], null, null);
        }
        Expr test = new TestExpr(node, name, args, line);
        return negated ? new UnaryExpr("not", test, line) : test;
    }
}
