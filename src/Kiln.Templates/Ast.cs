namespace Kiln.Templates;

// ---- expressions ----------------------------------------------------------------------------

internal abstract record Expr(int Line);

internal sealed record ConstExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(List<Expr> Items, int Line) : Expr(Line);

internal sealed record TupleExpr(List<Expr> Items, int Line) : Expr(Line);

internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

internal sealed record AttrExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record ItemExpr(Expr Target, Expr Key, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

/// <summary>Arguments of a call, filter or test, including *args and **kwargs.</summary>
internal sealed record CallArgs(List<Expr> Positional, List<(string Name, Expr Value)> Keywords, Expr? Star, Expr? DoubleStar)
{
    public static readonly CallArgs None = new([], [], null, null);
}

internal sealed record CallExpr(Expr Callee, CallArgs Args, int Line) : Expr(Line);

/// <summary>`operand | name(args)`; a null operand means the value comes from a filter block body.</summary>
internal sealed record FilterExpr(Expr? Operand, string Name, CallArgs Args, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Operand, string Name, CallArgs Args, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record ConcatExpr(List<Expr> Parts, int Line) : Expr(Line);

internal sealed record CompareExpr(Expr First, List<(string Op, Expr Operand)> Rest, int Line) : Expr(Line);

internal sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);

// ---- assignment targets ---------------------------------------------------------------------

internal abstract record Target(int Line);

internal sealed record NameTarget(string Name, int Line) : Target(Line);

/// <summary>`ns.attr` on the left of a set: only namespace objects accept it.</summary>
internal sealed record AttrTarget(string Name, string Attr, int Line) : Target(Line);

internal sealed record TupleTarget(List<Target> Items, int Line) : Target(Line);

// ---- statements -----------------------------------------------------------------------------

internal abstract record Node(int Line);

internal sealed record TextNode(string Text, int Line) : Node(Line);

internal sealed record OutputNode(Expr Value, int Line) : Node(Line);

internal sealed record IfNode(List<(Expr Test, List<Node> Body)> Branches, List<Node>? Else, int Line) : Node(Line);

internal sealed record ForNode(Target Target, Expr Iter, Expr? Filter, List<Node> Body, List<Node>? Else, bool Recursive, int Line) : Node(Line);

internal sealed record SetNode(Target Target, Expr Value, int Line) : Node(Line);

/// <summary>`{% set x %}...{% endset %}`, optionally filtered.</summary>
internal sealed record SetBlockNode(Target Target, List<Node> Body, List<FilterExpr> Filters, int Line) : Node(Line);

internal sealed record MacroNode(string Name, List<(string Name, Expr? Default)> Parameters, List<Node> Body, int Line) : Node(Line);

/// <summary>`{% call m() %}body{% endcall %}`: m runs with `caller()` rendering the body.</summary>
internal sealed record CallBlockNode(CallExpr Call, List<(string Name, Expr? Default)> Parameters, List<Node> Body, int Line) : Node(Line);

internal sealed record FilterBlockNode(List<FilterExpr> Filters, List<Node> Body, int Line) : Node(Line);

internal sealed record BreakNode(int Line) : Node(Line);

internal sealed record ContinueNode(int Line) : Node(Line);
