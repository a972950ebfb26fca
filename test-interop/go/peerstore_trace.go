package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	ma "github.com/multiformats/go-multiaddr"
)

// peerstoreTrace is the wire shape documented in ../src/trace.ts.
type peerstoreTrace struct {
	// Keys are base64 protobuf-marshalled private keys; ops name peers by index.
	Keys []string      `json:"keys"`
	Ops  []peerstoreOp `json:"ops"`
	// Local, when set, is the index of the local peer: its private key is
	// added first, as go's host does (peerscope takes it at open).
	Local *int `json:"local,omitempty"`
	// MaxProtocols, when set, is pstoremem.WithMaxProtocols.
	MaxProtocols int `json:"maxProtocols,omitempty"`
	// MaxAddrsPerPeer, when set, is pstoremem.WithMaxAddressesPerPeer (0 =
	// off); unset keeps go's default (64).
	MaxAddrsPerPeer *int `json:"maxAddrsPerPeer,omitempty"`
	// GcRemovesBarePeers makes the "gc" op also apply peerscope's GC rule
	// (a peer left with no live addr loses everything), with go's public
	// calls, so the rest of the trace stays comparable.
	GcRemovesBarePeers bool `json:"gcRemovesBarePeers,omitempty"`
}

type peerstoreOp struct {
	Op        string          `json:"op"`
	Peer      int             `json:"peer"`
	Addrs     []string        `json:"addrs,omitempty"`
	TTL       json.RawMessage `json:"ttl,omitempty"`
	OldTTL    json.RawMessage `json:"oldTtl,omitempty"`
	NewTTL    json.RawMessage `json:"newTtl,omitempty"`
	Protocols []string        `json:"protocols,omitempty"`
	Key       string          `json:"key,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Ms        float64         `json:"ms,omitempty"`
	// Envelope is a base64 marshalled signed PeerRecord envelope.
	Envelope string `json:"envelope,omitempty"`
	// Stream names an AddrStream subscription within the trace.
	Stream int `json:"stream,omitempty"`
}

func parseTTL(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch s {
		case "connected":
			return peerstore.ConnectedAddrTTL, nil
		case "permanent":
			return peerstore.PermanentAddrTTL, nil
		case "recentlyConnected":
			return peerstore.RecentlyConnectedAddrTTL, nil
		case "temp":
			return peerstore.TempAddrTTL, nil
		}
		return 0, fmt.Errorf("unknown symbolic ttl %q", s)
	}
	// Milliseconds, fractions allowed (AddressesExpire uses 100 µs), to the
	// nearest nanosecond (peerscope rounds the same way).
	var ms float64
	if err := json.Unmarshal(raw, &ms); err != nil {
		return 0, fmt.Errorf("bad ttl %s", raw)
	}
	return msDuration(ms), nil
}

func msDuration(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// runPeerstoreTraces plays every trace in a JSON stream, each on a fresh
// peerstore, writing one JSON line of results per trace.
func runPeerstoreTraces(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(out)
	for {
		var tr peerstoreTrace
		if err := dec.Decode(&tr); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		res, err := runPeerstoreTrace(tr)
		if err != nil {
			return err
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
}

func runPeerstoreTrace(tr peerstoreTrace) ([]any, error) {
	keys := make([]crypto.PrivKey, len(tr.Keys))
	ids := make([]peer.ID, len(tr.Keys))
	byID := map[peer.ID]int{}
	for i, k := range tr.Keys {
		raw, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, err
		}
		if keys[i], err = crypto.UnmarshalPrivateKey(raw); err != nil {
			return nil, err
		}
		if ids[i], err = peer.IDFromPrivateKey(keys[i]); err != nil {
			return nil, err
		}
		byID[ids[i]] = i
	}
	// Start at a fixed instant so traces are reproducible.
	start := time.Unix(1_700_000_000, 0)
	clk := &traceClock{now: start}
	opts := []pstoremem.Option{pstoremem.WithClock(clk)}
	if tr.MaxProtocols > 0 {
		opts = append(opts, pstoremem.WithMaxProtocols(tr.MaxProtocols))
	}
	if tr.MaxAddrsPerPeer != nil {
		opts = append(opts, pstoremem.WithMaxAddressesPerPeer(*tr.MaxAddrsPerPeer))
	}
	ps, err := pstoremem.NewPeerstore(opts...)
	if err != nil {
		return nil, err
	}
	defer ps.Close()
	if tr.Local != nil {
		if *tr.Local < 0 || *tr.Local >= len(ids) {
			return nil, fmt.Errorf("local peer index %d out of range", *tr.Local)
		}
		if err := ps.AddPrivKey(ids[*tr.Local], keys[*tr.Local]); err != nil {
			return nil, err
		}
	}
	run := &traceRun{
		ps: ps, clk: clk, start: start, keys: keys, ids: ids, byID: byID, streams: map[int]*addrStream{},
		capOn: tr.MaxAddrsPerPeer == nil || *tr.MaxAddrsPerPeer > 0, gcRule: tr.GcRemovesBarePeers, local: tr.Local,
	}
	defer run.closeStreams()

	results := make([]any, 0, len(tr.Ops))
	for n, op := range tr.Ops {
		if !peerless[op.Op] && (op.Peer < 0 || op.Peer >= len(ids)) {
			return nil, fmt.Errorf("op %d: peer index %d out of range", n, op.Peer)
		}
		p := peer.ID("")
		if !peerless[op.Op] {
			p = ids[op.Peer]
		}
		res, err := run.apply(p, op)
		if err != nil {
			results = append(results, map[string]any{"op": op.Op, "error": err.Error()})
			continue
		}
		results = append(results, map[string]any{"op": op.Op, "result": res})
	}
	return results, nil
}

// peerless ops ignore their peer index.
var peerless = map[string]bool{"advance": true, "gc": true, "consumePeerRecord": true, "peersWithKeys": true, "peers": true, "addrStreamTake": true, "addrStreamClose": true}

// traceRun is one trace's peerstore and what its ops refer to.
type traceRun struct {
	ps      peerstore.Peerstore
	clk     *traceClock
	start   time.Time
	keys    []crypto.PrivKey
	ids     []peer.ID
	byID    map[peer.ID]int
	streams map[int]*addrStream
	// capOn: the per-peer addr cap is on, so an add may evict (ties reported).
	capOn  bool
	gcRule bool
	local  *int
}

// parseAddrs maps "" to a nil multiaddr, which go skips (NilAddrsDontBreak).
func parseAddrs(in []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(in))
	for _, s := range in {
		if s == "" {
			out = append(out, nil)
			continue
		}
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func sortedAddrs(as []ma.Multiaddr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out
}

func sortedProtocols(ps []protocol.ID) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p))
	}
	slices.Sort(out)
	return out
}

// indices maps peer ids to trace indices, sorted.
func (r *traceRun) indices(ps []peer.ID) []int {
	out := make([]int, 0, len(ps))
	for _, q := range ps {
		out = append(out, r.byID[q])
	}
	slices.Sort(out)
	return out
}

func (r *traceRun) apply(p peer.ID, op peerstoreOp) (any, error) {
	ps, clk, keys, byID := r.ps, r.clk, r.keys, r.byID
	switch op.Op {
	case "advance":
		clk.now = clk.now.Add(msDuration(op.Ms))
		return nil, nil
	case "gc":
		return r.gc()
	case "addAddrs", "setAddrs":
		addrs, err := parseAddrs(op.Addrs)
		if err != nil {
			return nil, err
		}
		ttl, err := parseTTL(op.TTL)
		if err != nil {
			return nil, err
		}
		if op.Op == "setAddrs" {
			tie := r.watchEvictions(p, addrs, ttl, func() { ps.SetAddrs(p, addrs, ttl) })
			if tie != nil {
				return map[string]any{"capTie": tie}, nil
			}
			return nil, nil
		}
		// Report expired, uncollected addrs this revives at an older TTL: a go
		// behaviour peerscope deliberately lacks (DIFFERENCES.md).
		stale := staleTTLs(ps, p, addrs, ttl)
		tie := r.watchEvictions(p, addrs, ttl, func() { ps.AddAddrs(p, addrs, ttl) })
		res := map[string]any{}
		if len(stale) > 0 {
			res["staleTtl"] = stale
		}
		if tie != nil {
			res["capTie"] = tie
		}
		if len(res) == 0 {
			return nil, nil
		}
		return res, nil
	case "updateAddrs":
		oldTTL, err := parseTTL(op.OldTTL)
		if err != nil {
			return nil, err
		}
		newTTL, err := parseTTL(op.NewTTL)
		if err != nil {
			return nil, err
		}
		ps.UpdateAddrs(p, oldTTL, newTTL)
		return nil, nil
	case "clearAddrs":
		ps.ClearAddrs(p)
		return nil, nil
	case "addrs":
		return sortedAddrs(ps.Addrs(p)), nil
	case "peersWithAddrs":
		// live lists the peers with an unexpired addr, for the documented
		// difference that go also counts expired, not yet collected peers.
		all, live := []int{}, []int{}
		for _, q := range ps.PeersWithAddrs() {
			all = append(all, byID[q])
			if len(ps.Addrs(q)) > 0 {
				live = append(live, byID[q])
			}
		}
		slices.Sort(all)
		slices.Sort(live)
		return map[string][]int{"all": all, "live": live}, nil
	case "addProtocols":
		return nil, ps.AddProtocols(p, protocolIDs(op.Protocols)...)
	case "setProtocols":
		return nil, ps.SetProtocols(p, protocolIDs(op.Protocols)...)
	case "removeProtocols":
		return nil, ps.RemoveProtocols(p, protocolIDs(op.Protocols)...)
	case "getProtocols":
		got, err := ps.GetProtocols(p)
		return sortedProtocols(got), err
	case "supports":
		// Query order, which go keeps.
		got, err := ps.SupportsProtocols(p, protocolIDs(op.Protocols)...)
		out := make([]string, 0, len(got))
		for _, q := range got {
			out = append(out, string(q))
		}
		return out, err
	case "firstSupported":
		got, err := ps.FirstSupportedProtocol(p, protocolIDs(op.Protocols)...)
		return string(got), err
	case "addPubKey":
		return nil, ps.AddPubKey(p, keys[op.Peer].GetPublic())
	case "pubKey":
		pk := ps.PubKey(p)
		if pk == nil {
			return nil, nil
		}
		raw, err := crypto.MarshalPublicKey(pk)
		return b64(raw), err
	case "put":
		var v any
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return nil, err
		}
		return nil, ps.Put(p, op.Key, v)
	case "get":
		v, err := ps.Get(p, op.Key)
		if err != nil {
			return nil, err
		}
		return v, nil
	case "recordLatency":
		ps.RecordLatency(p, msDuration(op.Ms))
		return nil, nil
	case "latency":
		return float64(ps.LatencyEWMA(p)) / float64(time.Millisecond), nil
	case "removePeer":
		ps.RemovePeer(p)
		return nil, nil
	case "peersWithKeys":
		return r.indices(ps.PeersWithKeys()), nil
	case "peers":
		// anyRecord: the peers holding anything (DIFFERENCES.md peersListsEveryRecord).
		return map[string][]int{"peers": r.indices(ps.Peers()), "anyRecord": r.anyRecord()}, nil
	case "addPrivKey":
		// Only for DIFFERENCES.md privateKeyLocalOnly's demonstration: peerscope has no such call.
		return nil, ps.AddPrivKey(p, keys[op.Peer])
	case "privKey":
		sk := ps.PrivKey(p)
		if sk == nil {
			return nil, nil
		}
		raw, err := crypto.MarshalPrivateKey(sk)
		return b64(raw), err
	case "consumePeerRecord":
		return r.consumePeerRecord(op)
	case "peerRecord":
		return r.peerRecord(p)
	case "addrStreamOpen":
		return r.openStream(p, op.Stream)
	case "addrStreamTake":
		return r.takeStream(op.Stream)
	case "addrStreamClose":
		return r.closeStream(op.Stream)
	}
	return nil, fmt.Errorf("unknown op %q", op.Op)
}

func protocolIDs(in []string) []protocol.ID {
	out := make([]protocol.ID, 0, len(in))
	for _, s := range in {
		out = append(out, protocol.ID(s))
	}
	return out
}

// anyRecord lists the trace's peers that hold anything: a key, an addr entry
// (expired or not), protocols, metadata or a latency.
func (r *traceRun) anyRecord() []int {
	out := []int{}
	keyed := map[peer.ID]bool{}
	for _, q := range r.ps.PeersWithKeys() {
		keyed[q] = true
	}
	for i, q := range r.ids {
		protos, _ := r.ps.GetProtocols(q)
		if keyed[q] || len(storedAddrs(r.ps, q)) > 0 || len(protos) > 0 || hasMetadata(r.ps, q) || hasLatency(r.ps, q) {
			out = append(out, i)
		}
	}
	return out
}

// gc runs what pstoremem's 1-minute GC does (its ticker is real time, so a
// trace never sees it): every expired addr in its expiry heap is deleted, and
// a peer's signed record goes with its last addr. SetAddrs(addr, -1) is
// exactly that delete. An expired addr outside the heap (a connected addr
// lowered by UpdateAddrs, reference §9.1) stays: reported as keptExpired.
// With gcRule, peerscope's rule follows: a peer other than the local one left
// with no addr loses everything (RemovePeer and ClearAddrs). Reports the peers
// that held something before and nothing after.
func (r *traceRun) gc() (any, error) {
	before := r.anyRecord()
	now := r.clk.Now()
	kept := []string{}
	for _, q := range r.ids {
		for _, e := range storedAddrs(r.ps, q) {
			if now.Before(e.expiry) {
				continue
			}
			if e.inHeap {
				r.ps.SetAddrs(q, []ma.Multiaddr{e.addr}, -1)
			} else {
				kept = append(kept, e.addr.String())
			}
		}
	}
	if r.gcRule {
		for i, q := range r.ids {
			if r.local != nil && *r.local == i {
				continue
			}
			if len(storedAddrs(r.ps, q)) == 0 {
				r.ps.RemovePeer(q)
				r.ps.ClearAddrs(q)
			}
		}
	}
	after := map[int]bool{}
	for _, i := range r.anyRecord() {
		after[i] = true
	}
	dropped := []int{}
	for _, i := range before {
		if !after[i] {
			dropped = append(dropped, i)
		}
	}
	if len(kept) > 0 {
		slices.Sort(kept)
		return map[string]any{"dropped": dropped, "keptExpired": kept}, nil
	}
	return map[string][]int{"dropped": dropped}, nil
}

// watchEvictions runs an add of addrs at ttl under the per-peer cap and, when
// an addr is missing afterwards (one held before, or one of the add's own,
// evicted within the call) whose expiry an addr still held shares (go picks
// among them in map order), returns p's addr state after it (addrState), so
// the comparator can check whether peerscope's choice ended in the same state.
// nil otherwise. An addr the op drops by rule (a record's) may be reported
// too: the comparator then finds the states equal.
func (r *traceRun) watchEvictions(p peer.ID, addrs []ma.Multiaddr, ttl time.Duration, add func()) []string {
	if !r.capOn || ttl <= 0 {
		add()
		return nil
	}
	candidates := storedAddrs(r.ps, p)
	if ttl < peerstore.ConnectedAddrTTL {
		exp := r.clk.Now().Add(ttl)
		for _, a := range addrs {
			if bare, id := peer.SplitAddr(a); bare != nil && (id == "" || id == p) {
				candidates = append(candidates, addrEntry{addr: bare, ttl: ttl, expiry: exp})
			}
		}
	}
	add()
	kept := map[string]bool{}
	expiries := map[int64]bool{}
	for _, e := range storedAddrs(r.ps, p) {
		kept[e.addr.String()] = true
		if e.ttl < peerstore.ConnectedAddrTTL {
			expiries[e.expiry.UnixNano()] = true
		}
	}
	for _, e := range candidates {
		if !kept[e.addr.String()] && e.ttl < peerstore.ConnectedAddrTTL && expiries[e.expiry.UnixNano()] {
			return addrState(r.ps, p, r.start)
		}
	}
	return nil
}

// traceClock is the peerstore's clock (pstoremem only asks it for Now). A
// mock clock's Add sleeps a millisecond to let its timers fire; pstoremem has
// none on it, so a plain field does.
type traceClock struct{ now time.Time }

func (c *traceClock) Now() time.Time { return c.now }
