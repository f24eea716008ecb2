namespace Kiln.Store; internal static class Placeholder { }
