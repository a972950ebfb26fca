// The go-libp2p side of the peer-store scaling benchmark (benchmarks/peerstore/scale.ts): the same workload on
// go-libp2p's in-memory peerstore (pstoremem, v0.52.0, the version test-interop pins), timed here and reported
// as JSON lines on stdout. Two modes:
//
//	scale -n N       N peers x 4 addresses x 3 protocols: insert (AddAddrs + AddProtocols), live heap per
//	                 peer, get (Addrs + GetProtocols), and the GC of a full expiry (pstoremem's own gc)
//	ops -sizes 1,10  go's BenchmarkInMemoryPeerstore cases (test/benchmarks_suite.go) at 1, 10, 100 addresses
//	                 per peer, through testing.Benchmark: ns per op
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	ma "github.com/multiformats/go-multiaddr"
)

// pstoremem runs its address GC once a minute of real time and exports no way to run it now; its own
// BenchmarkGC calls the unexported method, which this reaches by name (built with -checklinkname=0).
//
//go:linkname addrBookGC github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem.(*memoryAddrBook).gc
func addrBookGC(book unsafe.Pointer)

// settableClock is pstoremem's clock option: the benchmark moves time past every expiry before the GC.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var protocols = []protocol.ID{"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/kad/1.0.0"}

// peerID is the same id scale.ts derives for peer i: an Ed25519 identity multihash (00 24 08 01 12 20 and 32 key
// bytes: i's four low bytes, then a xorshift32 stream seeded by i).
func peerID(i int) peer.ID {
	b := make([]byte, 38)
	copy(b, []byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20})
	x := uint32(i+1) * 0x9e3779b1
	for j := 6; j < 38; j++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[j] = byte(x)
	}
	b[6], b[7], b[8], b[9] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
	return peer.ID(b)
}

// addrsFor is scale.ts's `addrsFor`: the same four addresses per peer.
func addrsFor(i int) []ma.Multiaddr {
	a, b := (i>>8)&255, i&255
	texts := []string{
		fmt.Sprintf("/ip4/10.%d.%d.1/tcp/4001", a, b),
		fmt.Sprintf("/ip4/10.%d.%d.1/udp/4001/quic-v1", a, b),
		fmt.Sprintf("/ip6/fd00::%x:%x/tcp/4001", i>>16, i&0xffff),
		fmt.Sprintf("/dns4/p%d.example.com/tcp/443/wss", i),
	}
	out := make([]ma.Multiaddr, len(texts))
	for k, t := range texts {
		out[k] = ma.StringCast(t)
	}
	return out
}

// threadCPU is the CPU time of the calling OS thread (the benchmark locks its goroutine to one), the figure
// scale.ts sets beside Node's main-thread CPU time: neither counts the collector's or other background threads.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RUSAGE_THREAD (Linux).
const rusageThread = 1

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type peerChunk struct {
	ids   []peer.ID
	addrs [][]ma.Multiaddr
}

// chunk makes the ids and addresses of peers [from, to): the caller's objects, made outside every timing and
// dropped after, so the heap figure counts only what the store keeps.
func chunk(from, to int) peerChunk {
	c := peerChunk{ids: make([]peer.ID, 0, to-from), addrs: make([][]ma.Multiaddr, 0, to-from)}
	for i := from; i < to; i++ {
		c.ids = append(c.ids, peerID(i))
		c.addrs = append(c.addrs, addrsFor(i))
	}
	return c
}

const chunkSize = 10_000

func scale(n int) map[string]any {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := &settableClock{now: time.UnixMilli(1_700_000_000_000)}
	before := heapAlloc()
	ps, err := pstoremem.NewPeerstore(
		pstoremem.WithClock(clock),
		// The defaults refuse more than a million unconnected addresses in the store; the workload holds 4 per peer.
		pstoremem.WithMaxAddresses(8*n+1_000_000),
	)
	if err != nil {
		panic(err)
	}
	defer ps.Close()

	var insert, insertCPU time.Duration
	for from := 0; from < n; from += chunkSize {
		c := chunk(from, min(from+chunkSize, n))
		// The chunk's making leaves garbage: collected now, not inside the timing (scale.ts does the same).
		runtime.GC()
		t, cpu := time.Now(), threadCPU()
		for k, id := range c.ids {
			ps.AddAddrs(id, c.addrs[k], peerstore.AddressTTL)
			if err := ps.AddProtocols(id, protocols...); err != nil {
				panic(err)
			}
		}
		insert += time.Since(t)
		insertCPU += threadCPU() - cpu
	}
	live := heapAlloc()

	var get, getCPU time.Duration
	got := 0
	for from := 0; from < n; from += chunkSize {
		ids := make([]peer.ID, 0, chunkSize)
		for i := from; i < min(from+chunkSize, n); i++ {
			ids = append(ids, peerID(i))
		}
		runtime.GC()
		t, cpu := time.Now(), threadCPU()
		for _, id := range ids {
			protos, _ := ps.GetProtocols(id)
			got += len(ps.Addrs(id)) + len(protos)
		}
		get += time.Since(t)
		getCPU += threadCPU() - cpu
	}
	if got != n*7 {
		panic(fmt.Sprintf("get read %d addresses and protocols, expected %d", got, n*7))
	}

	// Every address expires; the GC removes all of them (pstoremem keeps the protocols).
	clock.add(2 * time.Hour)
	book := reflect.ValueOf(ps).Elem().FieldByName("memoryAddrBook").UnsafePointer()
	t, cpu := time.Now(), threadCPU()
	addrBookGC(book)
	gc, gcCPU := time.Since(t), threadCPU()-cpu
	if left := len(ps.PeersWithAddrs()); left != 0 {
		panic(fmt.Sprintf("%d peers kept addresses after the GC", left))
	}
	return map[string]any{
		"mode":               "scale",
		"peers":              n,
		"insertNsPerPeer":    float64(insert.Nanoseconds()) / float64(n),
		"insertCpuNsPerPeer": float64(insertCPU.Nanoseconds()) / float64(n),
		"getNsPerPeer":       float64(get.Nanoseconds()) / float64(n),
		"getCpuNsPerPeer":    float64(getCPU.Nanoseconds()) / float64(n),
		"gcMs":               float64(gc.Nanoseconds()) / 1e6,
		"gcCpuMs":            float64(gcCPU.Nanoseconds()) / 1e6,
		"heapLivePerPeer":    float64(int64(live)-int64(before)) / float64(n),
	}
}

// opsPeer is go's `RandomPeer`: a random sha2-256 id and `count` addresses /ip4/127.0.0.1/tcp/<k>/ipfs/<id>.
type opsPeer struct {
	id    peer.ID
	addrs []ma.Multiaddr
}

func opsPeers(n, count int, seed uint32) []opsPeer {
	out := make([]opsPeer, n)
	x := seed | 1
	for i := range out {
		buf := make([]byte, 32)
		for j := range buf {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			buf[j] = byte(x)
		}
		id := peer.ID(append([]byte{0x12, 0x20}, buf...))
		addrs := make([]ma.Multiaddr, count)
		for k := range addrs {
			addrs[k] = ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/ipfs/%s", k, id))
		}
		out[i] = opsPeer{id, addrs}
	}
	return out
}

func newStore() peerstore.Peerstore {
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		panic(err)
	}
	return ps
}

// ops runs go-libp2p's BenchmarkPeerstore cases as they are written (test/benchmarks_suite.go; its "GetAddrs"
// case calls SetAddrs, kept as is) and reports ns per op.
func ops(sizes []int) []map[string]any {
	const n = 10_000
	out := []map[string]any{}
	for _, sz := range sizes {
		peers := opsPeers(n, sz, uint32(sz)*2654435761)
		cases := []struct {
			name string
			run  func(b *testing.B)
		}{
			{"AddAddrs", func(b *testing.B) {
				ps := newStore()
				defer ps.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pp := peers[i%n]
					ps.AddAddrs(pp.id, pp.addrs, peerstore.RecentlyConnectedAddrTTL)
				}
			}},
			{"GetAddrs", func(b *testing.B) {
				ps := newStore()
				defer ps.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pp := peers[i%n]
					ps.SetAddrs(pp.id, pp.addrs, peerstore.RecentlyConnectedAddrTTL)
				}
			}},
			{"GetAndClearAddrs", func(b *testing.B) {
				ps := newStore()
				defer ps.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range 10 {
						pp := peers[(i+j)%n]
						ps.AddAddrs(pp.id, pp.addrs, peerstore.RecentlyConnectedAddrTTL)
					}
					for j := range 10 {
						ps.Addrs(peers[(i+j)%n].id)
					}
					for j := range 10 {
						ps.ClearAddrs(peers[(i+j)%n].id)
					}
				}
			}},
			{"PeersWithAddrs", func(b *testing.B) {
				ps := newStore()
				defer ps.Close()
				for _, pp := range peers {
					ps.AddAddrs(pp.id, pp.addrs, peerstore.RecentlyConnectedAddrTTL)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					_ = ps.PeersWithAddrs()
				}
			}},
			{"SetAddrs", func(b *testing.B) {
				ps := newStore()
				defer ps.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pp := peers[i%n]
					ps.SetAddrs(pp.id, pp.addrs, peerstore.RecentlyConnectedAddrTTL)
				}
			}},
		}
		for _, c := range cases {
			r := testing.Benchmark(c.run)
			out = append(out, map[string]any{
				"mode": "ops", "op": c.name, "addrsPerPeer": sz, "nsPerOp": float64(r.T.Nanoseconds()) / float64(r.N), "n": r.N,
			})
		}
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pstore-scale scale -n N | ops -sizes 1,10,100 [-benchtime 300ms]")
		os.Exit(2)
	}
	testing.Init()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 10_000, "peers (scale)")
	sizes := fs.String("sizes", "1,10,100", "addresses per peer (ops)")
	benchtime := fs.String("benchtime", "300ms", "time per case (ops)")
	_ = fs.Parse(os.Args[2:])
	enc := json.NewEncoder(os.Stdout)
	switch os.Args[1] {
	case "scale":
		_ = enc.Encode(scale(*n))
	case "ops":
		if err := flag.Set("test.benchtime", *benchtime); err != nil {
			panic(err)
		}
		list := []int{}
		for _, s := range strings.Split(*sizes, ",") {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 {
				fmt.Fprintf(os.Stderr, "-sizes: %q is not a whole number >= 1\n", s)
				os.Exit(2)
			}
			list = append(list, v)
		}
		for _, line := range ops(list) {
			_ = enc.Encode(line)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}
