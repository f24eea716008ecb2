#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine without systemd (Debian 12: munge, slurmctld,
# slurmd, slurm-client 22.05), with fake GPU device files so that --gres=gpu:N allocates GPUs and
# sets CUDA_VISIBLE_DEVICES. For development and tests; run as root. Idempotent: a cluster that is
# already up and answering is left as it is (its running jobs keep running).
#
#   KILN_SLURM_GPUS  fake GPUs on the node (default 6: three replicas of 2, and too few for one of 8)
#   KILN_SLURM_CPUS  CPUs the node declares, whatever the machine has (default 8), so that several
#                    small replicas fit on a small machine
#   INSTALL=1        apt-get install the packages first when they are missing
set -euo pipefail
gpus=${KILN_SLURM_GPUS:-6}
cpus=${KILN_SLURM_CPUS:-8}
node=$(hostname -s)
say() { echo "slurm-up: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then say "must run as root (it writes /etc/slurm and starts daemons)"; exit 1; fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  if [ "${INSTALL:-0}" = 1 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
  else
    say "Slurm is not installed (Debian: apt-get install munge slurmctld slurmd slurm-client, or INSTALL=1)"; exit 1
  fi
fi

node_ready() { sinfo -h -n "$node" -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated|completing)'; }

# Already up (an earlier run, or another checkout's tests): nothing to do.
if munge -n >/dev/null 2>&1 && node_ready; then exit 0; fi

# munge: the key must belong to munge and be readable by it alone; /run/munge is a tmpfs path.
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null || { say "munge does not answer"; exit 1; }

# Slurm 22.05 drops a GPU gres that names no device file, so each fake GPU is a character device
# (the same one as /dev/null).
for i in $(seq 0 $((gpus - 1))); do [ -e "/dev/kilngpu$i" ] || mknod -m 666 "/dev/kilngpu$i" c 1 3; done

install -d -m 755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
mem=$(( $(awk '/^MemTotal:/{print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
# The node line must stay the same across restarts: slurmctld kills running jobs whose node changed.
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=kiln
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
KillWait=5
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:$gpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
printf 'AutoDetect=off\nNodeName=%s Name=gpu File=/dev/kilngpu[0-%d]\n' "$node" $((gpus - 1)) > /etc/slurm/gres.conf

pidof slurmctld >/dev/null || slurmctld
pidof slurmd >/dev/null || slurmd
for _ in $(seq 150); do
  node_ready && exit 0
  # A node that registered with a bad gres earlier stays drained until resumed.
  case "$(sinfo -h -n "$node" -o %T 2>/dev/null)" in *drain*|*inval*|*down*) scontrol update nodename="$node" state=resume 2>/dev/null || true;; esac
  sleep 0.1
done
say "node $node did not become idle; see /var/log/slurm/slurmctld.log and slurmd.log"
sinfo >&2 || true
exit 1
