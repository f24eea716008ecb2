// Each test runs real server and replica processes; on a small machine they are steadier one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
