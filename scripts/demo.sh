#!/bin/sh
# npm run demo: the motivating case on a real kernel. A BPF FIFO qdisc (test/fixtures/progs/7x/
# qdisc_fifo.bpf.c) and its broken sibling (qdisc_fifo_leak: the skb is leaked when the queue is
# full), both captured on Debian's 7.3.4 cloud kernel, are ingested into .demo/kptrscope.db and
# replayed through the ownership model. For enqueue and dequeue it prints each skb's story path by
# path — node allocated, skb stashed in it, node pushed on the list; popped, skb taken back, node
# dropped, skb handed to the kernel — and, for the broken one, the finding on the rejected path first.
set -e
cd "$(dirname "$0")/.."
D=test/fixtures/logs/7.3
K=$(cat "$D/KERNEL")
mkdir -p .demo
leak_log=$D/qdisc_fifo_leak.bpftool.log
# The per-program load (capture loads each program of a failed object on its own) when present.
[ -f "$D/qdisc_fifo_leak.each.log" ] && leak_log=$D/qdisc_fifo_leak.each.log
echo "== qdisc_fifo: a FIFO qdisc the 7.3 kernel accepts =="
node bin/kptrscope.mjs replay "$D/qdisc_fifo.bpftool.log" --btf "$D/qdisc_fifo.bpf.o" --kernel "$K" --db .demo/kptrscope.db --program tailq_enqueue --program tailq_dequeue
echo
echo "== qdisc_fifo_leak: the same qdisc, which forgets the skb when the queue is full =="
node bin/kptrscope.mjs replay "$leak_log" --btf "$D/qdisc_fifo_leak.bpf.o" --kernel "$K" --db .demo/kptrscope.db --program tailq_enqueue --program tailq_dequeue
