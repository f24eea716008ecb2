using System.CommandLine;
using Kiln.Core.Time;
using Kiln.Runtime.Local;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.Hosting;

namespace Kiln.Server.Commands;

/// <summary><c>kiln server</c>: the control plane (REST API, store, controllers, local replicas) and the inference gateway.</summary>
public static class ServerCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => 8420 };
        port.Validators.Add(r =>
        {
            if (r.TryGetValue<int>(out var v) && v is < 1 or > 65535)
            {
                r.AddError($"--port: must be between 1 and 65535, got {v}");
            }
        });
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Data directory: store, models, replica logs, admin key (default: $KILN_HOME, else ~/.kiln)",
            DefaultValueFactory = _ => ServerOptions.DefaultDataDir(),
        };
        var store = new Option<string?>("--store")
        {
            Description = "Keep the store in this PostgreSQL database: an Npgsql connection string (\"Host=db;Port=5432;Username=kiln;Database=kiln\") "
                + "or a postgres://user[:password]@host[:port]/database URL (default: SQLite in the data directory)",
        };
        var cpuSlots = new Option<int?>("--cpu-slots") { Description = "CPU slots to offer (default: one per core on a machine without GPUs, none beside GPUs)" };
        cpuSlots.Validators.Add(r =>
        {
            if (r.TryGetValue<int?>(out var v) && v is < 1)
            {
                r.AddError($"--cpu-slots: must be at least 1, got {v}");
            }
        });
        var accelerators = new Option<string?>("--accelerators")
        {
            Description = "This machine's accelerators instead of discovering them with nvidia-smi/rocm-smi: TYPE:COUNT[,TYPE:COUNT...], e.g. NVIDIA_H100_80GB:4,CPU:8",
        };
        var acceleratorsFile = new Option<string?>("--accelerators-file")
        {
            Description = "JSON file naming this machine's accelerators device by device: {\"devices\": [{\"type\": ..., \"index\": 0, \"uuid\": ...}], \"cpuSlots\": N}",
        };
        // Tuning knobs for tests and operators; hidden to keep the help short.
        var interval = DurationOption("--reconcile-interval", "Time between reconciler passes", "1s");
        var healthCheck = DurationOption("--health-check-interval", "How often a ready replica's health is probed", "5s");
        var drain = DurationOption("--drain-timeout", "How long a stopping replica may drain before it is killed", "30s");
        var startTimeout = DurationOption("--replica-start-timeout", "How long a replica may take to become ready", "10m");
        var backoff = DurationOption("--restart-backoff", "Delay before the first restart of a failed replica (doubles after each failure)", "1s");
        var maxAddons = new Option<int>("--max-addons-per-deployment")
        {
            Description = "Addons one deployment may serve at once",
            DefaultValueFactory = _ => AddonOptions.DefaultMaxPerDeployment,
            Hidden = true,
        };
        maxAddons.Validators.Add(r =>
        {
            if (r.TryGetValue<int>(out var v) && v < 1)
            {
                r.AddError($"--max-addons-per-deployment: must be at least 1, got {v}");
            }
        });
        var gatewayWarmup = new Option<string>("--gateway-warmup")
        {
            Description = "Longest warm-up of the gateway's request path after the server starts, through an in-process stand-in replica (Go duration; 0 skips it)",
            DefaultValueFactory = _ => GoDuration.Format(GatewayWarmup.DefaultBudget),
        };
        gatewayWarmup.Validators.Add(r =>
        {
            if (!GoDuration.TryParseNonNegative(r.GetValueOrDefault<string>(), out _, out var error))
            {
                r.AddError($"--gateway-warmup: {error}");
            }
        });
        var holdTimeout = DurationOption("--hold-timeout", "How long a request waits for a waking deployment before it gets 503", "2m", hidden: false);
        var maxHeld = new Option<int>("--max-held-requests")
        {
            Description = "Requests one deployment may hold while it wakes; more get 503 at once",
            DefaultValueFactory = _ => 256,
        };
        maxHeld.Validators.Add(r =>
        {
            if (r.TryGetValue<int>(out var v) && v < 1)
            {
                r.AddError($"--max-held-requests: must be at least 1, got {v}");
            }
        });
        var maxBody = new Option<int>("--max-body-bytes")
        {
            Description = "Largest inference request body; larger ones get 413",
            DefaultValueFactory = _ => Kiln.Server.Gateway.GatewayOptions.DefaultMaxBodyBytes,
        };
        maxBody.Validators.Add(r =>
        {
            if (r.TryGetValue<int>(out var v) && v < 1)
            {
                r.AddError($"--max-body-bytes: must be at least 1, got {v}");
            }
        });
        var routing = new Option<string>("--routing")
        {
            Description = "How requests are spread over a deployment's replicas: prefix (sessions and shared prompt prefixes to their replica, bounded by load) or least-outstanding",
            DefaultValueFactory = _ => "prefix",
        };
        routing.AcceptOnlyFromAmong("prefix", "least-outstanding");
        var priceTable = new Option<string?>("--price-table")
        {
            Description = "JSON file of USD per accelerator-hour by accelerator type, e.g. {\"NVIDIA_A100_80GB\": 2.9}; omitted types keep the defaults",
        };
        var autoscaleInterval = DurationOption("--autoscale-interval", "Time between autoscaler passes", "5s");
        var reapInterval = DurationOption("--reap-interval", "Time between reaper passes (auto-delete, spend limits)", "30s");
        var models = ModelDistributionFlags.Create();
        var replicaCommand = new Option<string?>("--replica-command") { Description = "Program that runs replicas (default: this kiln executable)", Hidden = true };
        var slurm = new SlurmFlags();
        var config = new Option<string?>("--config")
        {
            Description = "JSON configuration file: engine profiles ({\"engines\": {\"vllm\": {...}, \"my-engine\": {\"command\": [...]}}}; docs/engines.md)",
        };
        var imports = new ModelImportFlags();

        var command = new Command("server", "Run the control plane: REST API, store, reconciler and replicas (local processes or Slurm jobs)")
        {
            host, port, dataDir, store, cpuSlots, accelerators, acceleratorsFile, holdTimeout, maxHeld, maxBody, routing, priceTable, interval, healthCheck, autoscaleInterval, reapInterval, drain, startTimeout, backoff, maxAddons, replicaCommand, config, gatewayWarmup,
        };
        models.AddTo(command);
        imports.AddTo(command);
        slurm.AddTo(command);
        command.SetAction((r, ct) =>
        {
            // Checked here rather than by a validator: one line and exit code 2, as for --price-table.
            if (r.GetValue(store) is { } storeValue && StoreOpener.Problem(storeValue) is { } problem)
            {
                Console.Error.WriteLine($"kiln server: --store: {problem}");
                return Task.FromResult(2);
            }
            var prices = Kiln.Core.Billing.PriceTable.Default;
            if (r.GetValue(priceTable) is { Length: > 0 } file)
            {
                if (!Kiln.Core.Billing.PriceTable.TryParse(File.ReadAllText(file), out var parsed, out var error))
                {
                    Console.Error.WriteLine($"kiln server: --price-table {file}: {error}");
                    return Task.FromResult(2);
                }
                prices = parsed;
            }
            if (!ReadAccelerators(r.GetValue(accelerators), r.GetValue(acceleratorsFile), out var inventory))
            {
                return Task.FromResult(2);
            }
            var engines = Kiln.Core.Engines.EngineCatalog.Default;
            var shapes = Kiln.Core.Shapes.ShapeCatalog.Default;
            if (r.GetValue(config) is { Length: > 0 } configFile)
            {
                if (ServerConfigFile.Read(configFile) is not { } read)
                {
                    return Task.FromResult(2);
                }
                (engines, shapes) = read;
            }
            var options = new ServerOptions
            {
                Engines = engines,
                Shapes = shapes,
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                DataDir = r.GetValue(dataDir)!,
                Store = r.GetValue(store),
                CpuSlots = r.GetValue(cpuSlots),
                Accelerators = inventory,
                Addons = new AddonOptions { MaxPerDeployment = r.GetValue(maxAddons) },
                ReplicaCommand = r.GetValue(replicaCommand) is { Length: > 0 } rc ? ReplicaCommand.FromPath(rc) : null,
                Runtime = slurm.Runtime(r),
                Slurm = slurm.Options(r, r.GetValue(dataDir)!),
                // The local runtime's replicas share the server's disk; a cluster's download unless a share is given.
                Models = models.Read(r, remoteRuntime: slurm.Runtime(r) == RuntimeKind.Slurm),
                Imports = imports.Read(r),
                Gateway = new Kiln.Server.Gateway.GatewayOptions
                {
                    HoldTimeout = GoDuration.Parse(r.GetValue(holdTimeout)!),
                    MaxHeldRequests = r.GetValue(maxHeld),
                    MaxBodyBytes = r.GetValue(maxBody),
                    Routing = r.GetValue(routing) == "least-outstanding" ? Kiln.Server.Gateway.RoutingPolicy.LeastOutstanding : Kiln.Server.Gateway.RoutingPolicy.Prefix,
                },
                Prices = prices,
                GatewayWarmup = GoDuration.Parse(r.GetValue(gatewayWarmup)!),
                Controllers = new Kiln.Server.ControlPlane.Controllers.ControllerOptions
                {
                    AutoscaleInterval = GoDuration.Parse(r.GetValue(autoscaleInterval)!),
                    ReapInterval = GoDuration.Parse(r.GetValue(reapInterval)!),
                },
                Reconciler = new ReconcilerOptions
                {
                    Interval = GoDuration.Parse(r.GetValue(interval)!),
                    HealthCheckInterval = GoDuration.Parse(r.GetValue(healthCheck)!),
                    DrainTimeout = GoDuration.Parse(r.GetValue(drain)!),
                    StartTimeout = GoDuration.Parse(r.GetValue(startTimeout)!),
                    RestartBackoff = GoDuration.Parse(r.GetValue(backoff)!),
                },
            };
            return ServerHost.RunAsync(options, ct);
        });
        return command;
    }

    /// <summary>The configured inventory (null: discover it), or false after printing what is wrong.</summary>
    private static bool ReadAccelerators(string? list, string? file, out Kiln.Runtime.Accelerators.LocalInventory? inventory)
    {
        inventory = null;
        string? error;
        if (list is not null && file is not null)
        {
            Console.Error.WriteLine("kiln server: --accelerators and --accelerators-file name the same inventory; give one");
            return false;
        }
        if (list is not null && !Kiln.Runtime.Accelerators.InventoryConfig.TryParseList(list, out inventory, out error))
        {
            Console.Error.WriteLine($"kiln server: --accelerators: {error}");
            return false;
        }
        if (file is not null)
        {
            string json;
            try
            {
                json = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"kiln server: --accelerators-file {file}: {e.Message}");
                return false;
            }
            if (!Kiln.Runtime.Accelerators.InventoryConfig.TryParseFile(json, out inventory, out error))
            {
                Console.Error.WriteLine($"kiln server: --accelerators-file {file}: {error}");
                return false;
            }
        }
        return true;
    }

    private static Option<string> DurationOption(string name, string description, string fallback, bool hidden = true)
    {
        var option = new Option<string>(name) { Description = $"{description} (Go duration)", DefaultValueFactory = _ => fallback, Hidden = hidden };
        option.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (!GoDuration.TryParse(value, out var d, out var error) || d <= TimeSpan.Zero)
            {
                r.AddError($"{name}: {error ?? $"must be positive, got {value}"}");
            }
        });
        return option;
    }
}
