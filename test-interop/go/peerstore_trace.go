package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	mockclock "github.com/benbjohnson/clock"
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
	Ms        int64           `json:"ms,omitempty"`
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
	// Milliseconds, fractions allowed (AddressesExpire uses 100 µs).
	var ms float64
	if err := json.Unmarshal(raw, &ms); err != nil {
		return 0, fmt.Errorf("bad ttl %s", raw)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
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
	clk := mockclock.NewMock()
	// Start at a fixed instant so traces are reproducible.
	clk.Set(time.Unix(1_700_000_000, 0))
	opts := []pstoremem.Option{pstoremem.WithClock(clk)}
	if tr.MaxProtocols > 0 {
		opts = append(opts, pstoremem.WithMaxProtocols(tr.MaxProtocols))
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
	run := &traceRun{ps: ps, clk: clk, keys: keys, byID: byID, streams: map[int]*addrStream{}}
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
var peerless = map[string]bool{"advance": true, "consumePeerRecord": true, "peersWithKeys": true, "peers": true, "addrStreamTake": true, "addrStreamClose": true}

// traceRun is one trace's peerstore and what its ops refer to.
type traceRun struct {
	ps      peerstore.Peerstore
	clk     *mockclock.Mock
	keys    []crypto.PrivKey
	byID    map[peer.ID]int
	streams map[int]*addrStream
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
		clk.Add(time.Duration(op.Ms) * time.Millisecond)
		return nil, nil
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
			ps.SetAddrs(p, addrs, ttl)
			return nil, nil
		}
		// Report expired, uncollected addrs this revives at an older TTL: a go
		// behaviour peerscope deliberately lacks (DIFFERENCES.md).
		stale := staleTTLs(ps, p, addrs, ttl)
		ps.AddAddrs(p, addrs, ttl)
		if len(stale) > 0 {
			return map[string][]string{"staleTtl": stale}, nil
		}
		return nil, nil
	case "updateAddrs":
		oldTTL, err := parseTTL(op.OldTTL)
		if err != nil {
			return nil, err
		}
		newTTL, err := parseTTL(op.NewTTL)
		if err != nil {
			return nil, err
		}
		// Report addrs that were expired but not yet collected and that this
		// call brought back: a go behaviour peerscope deliberately lacks.
		before := map[string]bool{}
		for _, a := range ps.Addrs(p) {
			before[a.String()] = true
		}
		ps.UpdateAddrs(p, oldTTL, newTTL)
		revived := []string{}
		for _, a := range sortedAddrs(ps.Addrs(p)) {
			if !before[a] {
				revived = append(revived, a)
			}
		}
		if len(revived) == 0 {
			return nil, nil
		}
		return map[string][]string{"revived": revived}, nil
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
		ps.RecordLatency(p, time.Duration(op.Ms)*time.Millisecond)
		return nil, nil
	case "latency":
		return float64(ps.LatencyEWMA(p)) / float64(time.Millisecond), nil
	case "removePeer":
		ps.RemovePeer(p)
		return nil, nil
	case "peersWithKeys":
		return r.indices(ps.PeersWithKeys()), nil
	case "peers":
		return r.indices(ps.Peers()), nil
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
