package main

// The `node` mode: a live go-libp2p host driven by JSON commands on stdin, one answer line per command.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

const echoProtocol = "/peerscope/echo/1.0.0"

// Longest a single command may take; a stuck stream answers with an error instead of hanging the test.
const commandTimeout = 20 * time.Second

type nodeCommand struct {
	Cmd   string `json:"cmd"`
	Addr  string `json:"addr"`
	Peer  string `json:"peer"`
	Bytes int    `json:"bytes"`
	Count int    `json:"count"`
}

type statsJSON struct {
	TotalIn  int64 `json:"totalIn"`
	TotalOut int64 `json:"totalOut"`
}

func runNode(in io.Reader, out io.Writer) error {
	bwc := metrics.NewBandwidthCounter()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.BandwidthReporter(bwc),
		libp2p.Ping(true),
	)
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		if _, err := io.Copy(s, s); err != nil {
			_ = s.Reset()
		}
	})

	enc := json.NewEncoder(out)
	addrs := make([]string, 0)
	for _, a := range h.Addrs() {
		addrs = append(addrs, a.String())
	}
	if err := enc.Encode(map[string]any{"id": h.ID().String(), "addrs": addrs}); err != nil {
		return err
	}

	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		var cmd nodeCommand
		var answer any
		if err := json.Unmarshal(scanner.Bytes(), &cmd); err != nil {
			answer = map[string]string{"error": "bad command: " + err.Error()}
		} else if cmd.Cmd == "quit" {
			return enc.Encode(map[string]bool{"ok": true})
		} else {
			answer = runCommand(h, bwc, cmd)
		}
		if err := enc.Encode(answer); err != nil {
			return err
		}
	}
	return scanner.Err()
}

// runCommand answers one command; every failure becomes `{ "error" }`, never a crash.
func runCommand(h host.Host, bwc *metrics.BandwidthCounter, cmd nodeCommand) (answer any) {
	defer func() {
		if r := recover(); r != nil {
			answer = map[string]string{"error": fmt.Sprint("panic: ", r)}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	result, err := dispatch(ctx, h, bwc, cmd)
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	return result
}

func dispatch(ctx context.Context, h host.Host, bwc *metrics.BandwidthCounter, cmd nodeCommand) (any, error) {
	if cmd.Cmd == "connect" {
		return connect(ctx, h, cmd.Addr)
	}
	if cmd.Cmd == "bandwidth" {
		return bandwidth(bwc), nil
	}
	switch cmd.Cmd {
	case "echo", "ping", "pings", "peerstore", "disconnect":
	default:
		return nil, fmt.Errorf("unknown command %q", cmd.Cmd)
	}
	p, err := peer.Decode(cmd.Peer)
	if err != nil {
		return nil, fmt.Errorf("bad peer id: %w", err)
	}
	switch cmd.Cmd {
	case "echo":
		return echo(ctx, h, p, cmd.Bytes)
	case "ping":
		res := <-ping.Ping(ctx, h, p)
		if res.Error != nil {
			return nil, res.Error
		}
		return map[string]float64{"rttMs": float64(res.RTT.Nanoseconds()) / 1e6}, nil
	case "pings":
		return pings(ctx, h, p, cmd.Count)
	case "peerstore":
		return peerstoreView(h, p)
	case "disconnect":
		if err := h.Network().ClosePeer(p); err != nil {
			return nil, err
		}
		return map[string]bool{"ok": true}, nil
	}
	return nil, fmt.Errorf("unknown command %q", cmd.Cmd)
}

func connect(ctx context.Context, h host.Host, addr string) (any, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return nil, err
	}
	info, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return nil, err
	}
	if err := h.Connect(ctx, *info); err != nil {
		return nil, err
	}
	return map[string]string{"peer": info.ID.String()}, nil
}

// echoPattern is the payload both sides send: byte i is i mod 251, so a shifted or dropped chunk shows.
func echoPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func echo(ctx context.Context, h host.Host, p peer.ID, n int) (any, error) {
	if n < 0 || n > 64*1024*1024 {
		return nil, errors.New("bytes must be in [0, 64 MiB]")
	}
	s, err := h.NewStream(ctx, p, echoProtocol)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(deadline)
	}
	payload := echoPattern(n)
	written := make(chan error, 1)
	go func() {
		_, err := s.Write(payload)
		if err == nil {
			err = s.CloseWrite()
		}
		written <- err
	}()
	got, readErr := io.ReadAll(s)
	if err := <-written; err != nil {
		_ = s.Reset()
		return nil, err
	}
	if readErr != nil {
		return nil, readErr
	}
	if !bytes.Equal(got, payload) {
		return nil, fmt.Errorf("echo mismatch: sent %d bytes, got %d back", n, len(got))
	}
	return map[string]int{"bytes": len(got)}, nil
}

// peerstoreView: go's address book does not expose TTLs, so it reports the live addrs and the connectedness.
func peerstoreView(h host.Host, p peer.ID) (any, error) {
	ps := h.Peerstore()
	addrs := make([]string, 0)
	for _, a := range ps.Addrs(p) {
		addrs = append(addrs, a.String())
	}
	protocols := make([]string, 0)
	ids, err := ps.GetProtocols(p)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		protocols = append(protocols, string(id))
	}
	publicKey := ""
	if key := ps.PubKey(p); key != nil {
		raw, err := crypto.MarshalPublicKey(key)
		if err != nil {
			return nil, err
		}
		publicKey = b64(raw)
	}
	return map[string]any{
		"addrs":     addrs,
		"connected": h.Network().Connectedness(p) == network.Connected,
		"protocols": protocols,
		"publicKey": publicKey,
	}, nil
}

// bandwidth waits past one sweep (1 s) of go-flow-metrics, since totals move only when it runs.
func bandwidth(bwc *metrics.BandwidthCounter) any {
	time.Sleep(1200 * time.Millisecond)
	byPeer := map[string]statsJSON{}
	for p, s := range bwc.GetBandwidthByPeer() {
		byPeer[p.String()] = statsJSON{TotalIn: s.TotalIn, TotalOut: s.TotalOut}
	}
	byProtocol := map[string]statsJSON{}
	for id, s := range bwc.GetBandwidthByProtocol() {
		byProtocol[string(id)] = statsJSON{TotalIn: s.TotalIn, TotalOut: s.TotalOut}
	}
	totals := bwc.GetBandwidthTotals()
	return map[string]any{
		"totals":     statsJSON{TotalIn: totals.TotalIn, TotalOut: totals.TotalOut},
		"byPeer":     byPeer,
		"byProtocol": byProtocol,
	}
}

// pings runs go's ping.Ping for count round trips and reports each RTT and the
// peerstore's LatencyEWMA before and after, in ns: ping.Ping records every RTT
// it delivers (RecordLatency before it sends the result), so the EWMA after is
// go's for exactly these samples. The pinging stops (cancel) as soon as the
// last one is read; a round trip that still completes is drained and listed.
func pings(ctx context.Context, h host.Host, p peer.ID, count int) (any, error) {
	if count <= 0 || count > 100 {
		return nil, errors.New("count must be in [1, 100]")
	}
	before := h.Peerstore().LatencyEWMA(p).Nanoseconds()
	pctx, cancel := context.WithCancel(ctx)
	results := ping.Ping(pctx, h, p)
	rtts := []int64{}
	for len(rtts) < count {
		res, open := <-results
		if !open {
			cancel()
			return nil, errors.New("ping stopped early")
		}
		if res.Error != nil {
			cancel()
			return nil, res.Error
		}
		rtts = append(rtts, res.RTT.Nanoseconds())
	}
	cancel()
	for res := range results {
		if res.Error == nil {
			rtts = append(rtts, res.RTT.Nanoseconds())
		}
	}
	return map[string]any{
		"rttNs":        rtts,
		"ewmaBeforeNs": before,
		"ewmaNs":       h.Peerstore().LatencyEWMA(p).Nanoseconds(),
	}, nil
}
