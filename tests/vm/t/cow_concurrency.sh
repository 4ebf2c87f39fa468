#!/bin/bash
# Concurrency: processes copying up (appending), reading and renaming the
# same stubs at once. No append is lost or doubled, every read sees the
# template content first, and nothing deadlocks (the harness's hung-task
# detector fails the run if anything blocks for 30 s).
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

mkdir -p "$PWD/src" "$T_PRIV/a" "$T_PRIV/b"
for i in $(seq 0 11); do
	head -c $((64 << 10)) /dev/urandom >"$PWD/src/f$i"
	t_stub "$PWD/src/f$i" "$T_PRIV/a/f$i"
done
t_mount conc

out=$(python3 - "$T_MNT" "$PWD/src" <<'PY'
import mmap, multiprocessing as mp, os, random, sys, time
mnt, src = sys.argv[1], sys.argv[2]
N, TEMPLATE = 12, 64 << 10
tpl = [open(os.path.join(src, "f%d" % i), "rb").read() for i in range(N)]
deadline = time.time() + 20

def paths(i):
    return [os.path.join(mnt, d, "f%d" % i) for d in ("a", "b")]

def open_any(i, flags):
    for _ in range(1000):
        for p in paths(i):
            try:
                return os.open(p, flags)
            except FileNotFoundError:
                pass
    raise RuntimeError("f%d vanished" % i)

def appender(wid, start, q):
    rnd, done = random.Random(wid), []
    start.wait()
    n = 0
    while time.time() < deadline:
        # everyone hits f0 first: racing first copy-ups
        i = 0 if n < 3 else rnd.randrange(N)
        line = b"W%d-%d\n" % (wid, n)
        fd = open_any(i, os.O_WRONLY | os.O_APPEND)
        os.write(fd, line)
        os.close(fd)
        done.append((i, line))
        n += 1
    q.put(("appends", done))

def reader(rid, start, q):
    rnd, bad, reads = random.Random(100 + rid), [], 0
    start.wait()
    while time.time() < deadline:
        i = rnd.randrange(N)
        fd = open_any(i, os.O_RDONLY)
        if rnd.random() < 0.3 and os.fstat(fd).st_size:
            m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
            data = m[:TEMPLATE]
            m.close()
        else:
            data = os.pread(fd, TEMPLATE, 0)
        os.close(fd)
        if data != tpl[i]:
            bad.append(i)
        reads += 1
    q.put(("reads", (reads, bad)))

def renamer(start, q):
    rnd, moves = random.Random(7), 0
    start.wait()
    while time.time() < deadline:
        i = rnd.randrange(N)
        a, b = paths(i)
        try:
            os.rename(a, b)
        except FileNotFoundError:
            os.rename(b, a)
        moves += 1
    q.put(("renames", moves))

start, q = mp.Event(), mp.Queue()
procs = [mp.Process(target=appender, args=(w, start, q)) for w in range(4)]
procs += [mp.Process(target=reader, args=(r, start, q)) for r in range(2)]
procs += [mp.Process(target=renamer, args=(start, q))]
for p in procs:
    p.start()
start.set()
results = [q.get() for _ in procs]
for p in procs:
    p.join()
appends = [a for k, v in results if k == "appends" for a in v]
reads = sum(v[0] for k, v in results if k == "reads")
bad = [b for k, v in results if k == "reads" for b in v[1]]
renames = sum(v for k, v in results if k == "renames")
lost = 0
for i in range(N):
    for p in paths(i):
        if os.path.exists(p):
            data = open(p, "rb").read()
    if data[:TEMPLATE] != tpl[i]:
        print("f%d: template part changed" % i)
        lost += 1
    got = sorted(data[TEMPLATE:].splitlines(keepends=True))
    want = sorted(l for j, l in appends if j == i)
    if got != want:
        print("f%d: %d appends wanted, %d found" % (i, len(want), len(got)))
        lost += 1
print("appends=%d reads=%d bad_reads=%d renames=%d bad_files=%d"
      % (len(appends), reads, len(bad), renames, lost))
PY
)
echo "  $out" | tail -3
expect_match "some work was done" 'appends=[1-9][0-9]* reads=[1-9][0-9]* .*renames=[1-9]' "$out"
expect_match "no read missed the template, no append lost or doubled" \
	'bad_reads=0 renames=[0-9]+ bad_files=0$' "$(tail -1 <<<"$out")"
expect_eq "every file was copied up once: no stub left" 0 \
	"$(getfattr -R --absolute-names -n trusted.tplfs.origin "$T_PRIV" 2>/dev/null | grep -c '^# file')"
