using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>
/// Why a deletion was requested, when its requester gives one (the reaper: unused, over the spend
/// limit). It is part of the request, in the spec's half of the row; the reconciler puts it in front
/// of the status it writes while the deployment goes away.
/// </summary>
/// <param name="Code">The status code the deployment shows meanwhile (OK, or RESOURCE_EXHAUSTED over a spend limit).</param>
/// <param name="Message">The reason, e.g. "auto-deleted: unused for 1h".</param>
public sealed record DeletionReason(StatusCode Code, string Message);
