namespace Kiln.Core.Autoscaling;

/// <summary>
/// A deployment whose last real scrape found every READY replica with nothing running or waiting,
/// with the pass and time of that scrape and what the deployment's activity looked like before it.
/// </summary>
/// <param name="Pass">The autoscaler pass that scraped.</param>
/// <param name="At">When that pass began, on this instance's clock.</param>
/// <param name="Seen">The activity read before the scrape.</param>
/// <param name="Replicas">The READY replicas then, each of which answered.</param>
public sealed record QuietScrape(long Pass, DateTimeOffset At, DeploymentActivity Seen, IReadOnlySet<string> Replicas);
