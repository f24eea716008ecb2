#!/bin/bash
# window.sh NAME PID PORT LOG STREAM: non-engine and engine CPU ticks per request over an 8 s load window
p=$2; n0=$(grep -c completions $4); ./threads.sh $p | sort -k1 > /tmp/shttp/w0.$p; ./load.sh $3 8 $5; ./threads.sh $p | sort -k1 > /tmp/shttp/w1.$p; n1=$(grep -c completions $4)
join /tmp/shttp/w0.$p /tmp/shttp/w1.$p | awk -v n=$((n1-n0)) -v name=$1 '{d=$5-$3; if ($2 ~ /^kiln-/) e+=d; else h+=d} END {printf "%s requests %d  engine %.1f ms/req  http-side %.2f ms/req\n", name, n, e*10/n, h*10/n}'
