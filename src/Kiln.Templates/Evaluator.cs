using System.Text;

namespace Kiln.Templates;

/// <summary>Executes a parsed template: statements write to the current output buffer, expressions
/// evaluate to runtime values with Python semantics.</summary>
internal sealed class Evaluator
{
    private enum Flow { Normal, Break, Continue }

    private StringBuilder _out = new();
    private int _callDepth;
    private int _loopDepth;
    private object? _filterBlockInput;

    public Evaluator(Func<DateTime> now) => Now = now;

    public Func<DateTime> Now { get; }

    public Limits Limits { get; } = new();

    public string Render(List<Node> body, Scope root)
    {
        Exec(body, root);
        return _out.ToString();
    }

    // ---- statements --------------------------------------------------------------------------

    private Flow Exec(List<Node> body, Scope scope)
    {
        foreach (var node in body)
        {
            var flow = Exec(node, scope);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Exec(Node node, Scope scope)
    {
        try
        {
            switch (node)
            {
                case TextNode t:
                    Write(t.Text);
                    break;
                case OutputNode o:
                    Write(Py.Str(Eval(o.Value, scope)));
                    break;
                case IfNode i:
                    foreach (var (test, branch) in i.Branches)
                        if (Py.Truthy(Eval(test, scope))) return Exec(branch, scope);
                    if (i.Else is not null) return Exec(i.Else, scope);
                    break;
                case ForNode f:
                    ExecFor(f, scope);
                    break;
                case SetNode s:
                    Assign(s.Target, Eval(s.Value, scope), scope);
                    break;
                case SetBlockNode sb:
                    Assign(sb.Target, ApplyBlockFilters(sb.Filters, Capture(sb.Body, scope), scope), scope);
                    break;
                case MacroNode m:
                    scope.Set(m.Name, new Macro(m.Name, m.Parameters, m.Body, scope));
                    break;
                case CallBlockNode cb:
                    var caller = new Macro("caller", cb.Parameters, cb.Body, scope);
                    Write(Py.Str(Call(cb.Call, scope, caller)));
                    break;
                case FilterBlockNode fb:
                    Write(Py.Str(ApplyBlockFilters(fb.Filters, Capture(fb.Body, scope), scope)));
                    break;
                case BreakNode:
                    return Flow.Break;
                case ContinueNode:
                    return Flow.Continue;
                default:
                    throw new InvalidOperationException($"unknown node {node.GetType().Name}");
            }
            return Flow.Normal;
        }
        catch (TemplateException e) when (e.Line is null)
        {
            throw new TemplateException($"line {node.Line}: {e.Message}", e) { Line = node.Line };
        }
    }

    private void Write(string s)
    {
        _out.Append(s);
        Limits.CheckOutput(_out);
    }

    private string Capture(List<Node> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            Exec(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private object? ApplyBlockFilters(List<FilterExpr> filters, string body, Scope scope)
    {
        if (filters.Count == 0) return body;
        var saved = _filterBlockInput;
        _filterBlockInput = body;
        try
        {
            return Eval(filters[^1], scope);
        }
        finally
        {
            _filterBlockInput = saved;
        }
    }

    private void ExecFor(ForNode f, Scope scope)
    {
        var iterable = Eval(f.Iter, scope);
        var items = new List<object?>();
        foreach (var item in Py.Iterate(iterable))
        {
            Limits.Step();
            if (f.Filter is not null)
            {
                var probe = new Scope(scope);
                Assign(f.Target, item, probe);
                if (!Py.Truthy(Eval(f.Filter, probe))) continue;
            }
            items.Add(item);
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Exec(f.Else, new Scope(scope));
            return;
        }
        var loop = new LoopInfo(items, _loopDepth);
        _loopDepth++;
        try
        {
            for (var i = 0; i < items.Count; i++)
            {
                Limits.Step();
                var iteration = new Scope(scope);
                Assign(f.Target, items[i], iteration);
                loop.Index0 = i;
                iteration.Set("loop", loop);
                if (Exec(f.Body, iteration) == Flow.Break) break;
            }
        }
        finally
        {
            _loopDepth--;
        }
    }

    private void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case AttrTarget a:
                if (!scope.TryGet(a.Name, out var obj) || obj is not Namespace ns)
                    throw TemplateException.At(a.Line, "cannot assign attribute on non-namespace object");
                ns.Attributes.Set(a.Attr, value);
                break;
            case TupleTarget t:
                var values = Py.ToList(value);
                if (values.Count != t.Items.Count)
                    throw TemplateException.At(t.Line, values.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {values.Count})");
                for (var i = 0; i < values.Count; i++) Assign(t.Items[i], values[i], scope);
                break;
        }
    }

    // ---- macros ------------------------------------------------------------------------------

    /// <summary>A template macro: a closure over the frame it was defined in.</summary>
    private sealed class Macro(string name, List<(string Name, Expr? Default)> parameters, List<Node> body, Scope closure) : PyCallable
    {
        public override string Name => name;

        public override object? Invoke(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int line)
        {
            var frame = new Scope(closure);
            var extraKw = new PyDict();
            foreach (var kv in kwargs)
            {
                if (kv.Key == "caller") frame.Set("caller", kv.Value);
                else if (parameters.Any(p => p.Name == kv.Key)) frame.Set(kv.Key, kv.Value);
                else extraKw.Set(kv.Key, kv.Value);
            }
            for (var i = 0; i < parameters.Count; i++)
            {
                var (pname, dflt) = parameters[i];
                if (i < args.Count)
                {
                    if (kwargs.Any(k => k.Key == pname))
                        throw new TemplateException($"macro '{name}' got multiple values for argument '{pname}'");
                    frame.Set(pname, args[i]);
                }
                else if (!kwargs.Any(k => k.Key == pname))
                {
                    frame.Set(pname, dflt is null ? Undefined.Named(pname) : ev.Eval(dflt, frame));
                }
            }
            frame.Set("varargs", new PyTuple(args.Skip(parameters.Count).ToList()));
            frame.Set("kwargs", extraKw);
            return ev.Capture(body, frame);
        }
    }

    // ---- expressions -------------------------------------------------------------------------

    public object? Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n: return scope.TryGet(n.Name, out var v) ? v : Undefined.Named(n.Name);
            case ListExpr l: return l.Items.Select(e => Eval(e, scope)).ToList();
            case TupleExpr t: return new PyTuple(t.Items.Select(e => Eval(e, scope)).ToList());
            case DictExpr d:
                {
                    var dict = new PyDict();
                    foreach (var (k, val) in d.Items)
                    {
                        var key = Eval(k, scope);
                        if (key is List<object?> or PyDict or Undefined)
                            throw new TemplateException($"unhashable type: '{Py.TypeName(key)}'");
                        dict.Set(key, Eval(val, scope));
                    }
                    return dict;
                }
            case AttrExpr a: return Py.GetAttr(Eval(a.Target, scope), a.Name);
            case ItemExpr i:
                {
                    var target = Eval(i.Target, scope);
                    var key = i.Key is SliceExpr s
                        ? new PySlice(EvalOpt(s.Start, scope), EvalOpt(s.Stop, scope), EvalOpt(s.Step, scope))
                        : Eval(i.Key, scope);
                    return Py.GetItem(target, key);
                }
            case CallExpr call: return Call(call, scope, null);
            case FilterExpr f:
                {
                    var input = f.Operand is null ? _filterBlockInput : Eval(f.Operand, scope);
                    var (args, kwargs) = EvalArgs(f.Args, scope);
                    return Filters.Apply(this, f.Name, input, new Args(f.Name, args, kwargs));
                }
            case TestExpr t:
                {
                    var (args, kwargs) = EvalArgs(t.Args, scope);
                    return Tests.Apply(this, t.Name, Eval(t.Operand, scope), new Args(t.Name, args, kwargs));
                }
            case UnaryExpr u:
                {
                    var operand = Eval(u.Operand, scope);
                    return u.Op switch
                    {
                        "not" => !Py.Truthy(operand),
                        "-" => Py.Negate(operand),
                        _ => Py.IsNumber(operand) ? (operand is bool b ? (b ? 1L : 0L) : operand)
                            : operand is Undefined un ? throw un.Fail()
                            : throw Py.TypeError($"bad operand type for unary +: '{Py.TypeName(operand)}'"),
                    };
                }
            case BinaryExpr b:
                {
                    var left = Eval(b.Left, scope);
                    return b.Op switch
                    {
                        "and" => Py.Truthy(left) ? Eval(b.Right, scope) : left,
                        "or" => Py.Truthy(left) ? left : Eval(b.Right, scope),
                        _ => Py.Binary(b.Op, left, Eval(b.Right, scope), Limits),
                    };
                }
            case ConcatExpr c:
                {
                    var sb = new StringBuilder();
                    foreach (var part in c.Parts)
                    {
                        sb.Append(Py.Str(Eval(part, scope)));
                        if (sb.Length > Limits.MaxString) throw new TemplateException($"string exceeds {Limits.MaxString} characters");
                    }
                    return sb.ToString();
                }
            case CompareExpr cmp:
                {
                    var left = Eval(cmp.First, scope);
                    foreach (var (op, operand) in cmp.Rest)
                    {
                        var right = Eval(operand, scope);
                        if (!Compare(op, left, right)) return false;
                        left = right;
                    }
                    return true;
                }
            case CondExpr ce:
                if (Py.Truthy(Eval(ce.Test, scope))) return Eval(ce.Then, scope);
                return ce.Else is null
                    ? new Undefined("the inline if-expression evaluated to false and no else section was defined")
                    : Eval(ce.Else, scope);
            case SliceExpr:
                throw TemplateException.At(expr.Line, "slice outside of a subscript");
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    private object? EvalOpt(Expr? e, Scope scope)
    {
        if (e is null) return null;
        var v = Eval(e, scope);
        return v is Undefined u ? throw u.Fail() : v;
    }

    private static bool Compare(string op, object? left, object? right) => op switch
    {
        "==" => Py.Eq(left, right),
        "!=" => !Py.Eq(left, right),
        "<" => Py.Compare(left, right, op) < 0,
        "<=" => Py.Compare(left, right, op) <= 0,
        ">" => Py.Compare(left, right, op) > 0,
        ">=" => Py.Compare(left, right, op) >= 0,
        "in" => Py.Contains(right, left),
        "not in" => !Py.Contains(right, left),
        _ => throw new InvalidOperationException(op),
    };

    private (List<object?>, List<KeyValuePair<string, object?>>) EvalArgs(CallArgs a, Scope scope)
    {
        var args = a.Positional.Select(e => Eval(e, scope)).ToList();
        if (a.Star is not null) args.AddRange(Py.Iterate(Eval(a.Star, scope)));
        var kwargs = a.Keywords.Count == 0 && a.DoubleStar is null
            ? Args.NoKeywords
            : a.Keywords.Select(k => new KeyValuePair<string, object?>(k.Name, Eval(k.Value, scope))).ToList();
        if (a.DoubleStar is not null)
        {
            if (Eval(a.DoubleStar, scope) is not PyDict d) throw new TemplateException("argument after ** must be a mapping");
            foreach (var kv in d) kwargs.Add(new(Py.Str(PyDict.Unkey(kv.Key)), kv.Value));
        }
        return (args, kwargs);
    }

    private object? Call(CallExpr call, Scope scope, PyCallable? caller)
    {
        var callee = Eval(call.Callee, scope);
        var (args, kwargs) = EvalArgs(call.Args, scope);
        if (caller is not null) kwargs = [.. kwargs, new("caller", caller)];
        return Invoke(callee, args, kwargs, call.Line);
    }

    public object? Invoke(object? callee, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int line)
    {
        switch (callee)
        {
            case PyCallable fn:
                Limits.Step();
                if (++_callDepth > Limits.MaxCallDepth)
                    throw new TemplateException($"call depth exceeds {Limits.MaxCallDepth} (runaway recursion?)");
                try
                {
                    return fn.Invoke(this, args, kwargs, line);
                }
                finally
                {
                    _callDepth--;
                }
            case Undefined u:
                throw u.Fail();
            default:
                throw Py.TypeError($"'{Py.TypeName(callee)}' object is not callable");
        }
    }
}
