// Command tlogcheck reads a trajectledger log as a stock Go client would: with
// golang.org/x/mod/sumdb/note for the signed checkpoint and golang.org/x/mod/sumdb/tlog for
// the tiles and proofs. It imports nothing of the ledger and only the standard library and
// x/mod, so it is built offline (GOPATH mode, GO111MODULE=off) from the packaged x/mod sources.
//
//	tlogcheck tiles -vkey FILE [-old FILE] LOG
//	tlogcheck proof -vkey FILE -log LOG PROOF
//
// LOG is a directory written by `trajectledger tiles DIR` or the URL prefix the API serves the
// tiles under (http://host:port/log). `tiles` opens LOG's checkpoint, rebuilds its root from
// the hash tiles (tlog.TileHashReader + tlog.TreeHash), proves and checks every entry of the
// entry bundles under it (tlog.ProveRecord + tlog.CheckRecord) and, with -old, proves and
// checks that the older checkpoint's tree is a prefix of it (tlog.ProveTree + tlog.CheckTree)
// and rebuilds the older root from the tiles too. `proof` checks a c2sp.org/tlog-proof@v1
// receipt: its checkpoint's signature, its index, its inclusion proof lines against the entry
// LOG holds at that index, and its checkpoint's consistency with LOG's newest.
//
// Each check that holds prints one line "<what> OK key=value ..."; the first that does not
// prints "FAIL: ..." on standard error and exits 1 (2 for a usage error).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	height    = 8 // C2SP tlog-tiles: tiles of 2^8 hashes
	fullWidth = 1 << height
	proofHead = "c2sp.org/tlog-proof@v1"
)

// source reads a file of the log by its C2SP path ("checkpoint", "tile/0/000", ...); nil, nil
// when the log does not have it (no file, HTTP 404).
type source interface {
	get(path string) ([]byte, error)
}

type dirSource string

func (d dirSource) get(path string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(path)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

type httpSource string

func (u httpSource) get(path string) ([]byte, error) {
	resp, err := http.Get(strings.TrimSuffix(string(u), "/") + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func openSource(log string) source {
	if strings.HasPrefix(log, "http://") || strings.HasPrefix(log, "https://") {
		return httpSource(log)
	}
	return dirSource(log)
}

// c2spPath is the C2SP tlog-tiles path of a tile: tile/<L>/<N>[.p/<W>], the data tiles
// (L = -1 in Go) as tile/entries/<N>[.p/<W>]. Go's own Tile.Path is the sumdb layout, which
// also names the height (tile/8/<L>/<N>) and calls the data tiles "data".
func c2spPath(t tlog.Tile) string {
	n := t.N
	text := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		text = fmt.Sprintf("x%03d/%s", n%1000, text)
	}
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	if t.W != 1<<uint(t.H) {
		text += fmt.Sprintf(".p/%d", t.W)
	}
	return "tile/" + level + "/" + text
}

// tileReader is the tlog.TileReader over a C2SP log. A partial tile the log does not have is
// cut from its full tile, as the spec lets a log delete partial tiles; cut counts those.
type tileReader struct {
	src  source
	read map[string][]byte
	cut  int
}

func newTileReader(src source) *tileReader {
	return &tileReader{src: src, read: map[string][]byte{}}
}

func (r *tileReader) Height() int { return height }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != height || t.L < 0 {
			return nil, fmt.Errorf("tile %+v is not a hash tile of height %d", t, height)
		}
		data, err := r.tile(t, tlog.HashSize)
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s has %d bytes, not %d", c2spPath(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// tile reads t, or cuts it from its full tile (entry bundles are cut by the caller: unit 0).
func (r *tileReader) tile(t tlog.Tile, unit int) ([]byte, error) {
	path := c2spPath(t)
	if data, ok := r.read[path]; ok {
		return data, nil
	}
	data, err := r.src.get(path)
	if err != nil {
		return nil, err
	}
	if data == nil && t.W < fullWidth {
		full := t
		full.W = fullWidth
		if data, err = r.src.get(c2spPath(full)); err != nil {
			return nil, err
		}
		if data != nil {
			r.cut++
			if unit > 0 && len(data) >= t.W*unit {
				data = data[:t.W*unit]
			}
		}
	}
	if data == nil {
		return nil, fmt.Errorf("%s is missing", path)
	}
	r.read[path] = data
	return data, nil
}

// entry is the leaf input at index i of a tree of size n, from its entry bundle.
func (r *tileReader) entry(n, i int64) ([]byte, error) {
	bundle := tlog.Tile{H: height, L: -1, N: i / fullWidth, W: fullWidth}
	if rest := n - bundle.N*fullWidth; rest < fullWidth {
		bundle.W = int(rest)
	}
	data, err := r.tile(bundle, 0)
	if err != nil {
		return nil, err
	}
	entries, err := splitBundle(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c2spPath(bundle), err)
	}
	if len(entries) < bundle.W || (len(entries) > bundle.W && len(entries) != fullWidth) {
		return nil, fmt.Errorf("%s holds %d entries, not %d", c2spPath(bundle), len(entries), bundle.W)
	}
	return entries[i%fullWidth], nil
}

// splitBundle splits an entry bundle: each entry a big-endian uint16 length and its bytes.
func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("the bundle ends inside a length")
		}
		size := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+size {
			return nil, errors.New("an entry runs past the end of the bundle")
		}
		out = append(out, data[2:2+size])
		data = data[2+size:]
	}
	return out, nil
}

type checkpoint struct {
	origin string
	tree   tlog.Tree
	signer string
}

// openCheckpoint verifies the signed note with the verifier (note.Open) and parses its text
// per C2SP tlog-checkpoint: origin, decimal size, base64 root, optional extension lines.
// tlog.ParseTree cannot parse it: it wants the sumdb's first line "go.sum database tree".
func openCheckpoint(msg []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint note: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return checkpoint{}, errors.New("checkpoint: not origin, size and root lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return checkpoint{}, fmt.Errorf("checkpoint: size %q is not a decimal uint64", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("checkpoint: root %q is not a base64 hash", lines[2])
	}
	var hash tlog.Hash
	copy(hash[:], root)
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: hash}, signer: n.Sigs[0].Name}, nil
}

func readVerifier(path string) (note.Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a verifier key: %v", path, err)
	}
	return v, nil
}

func logCheckpoint(src source, v note.Verifier) (checkpoint, error) {
	msg, err := src.get("checkpoint")
	if err != nil {
		return checkpoint{}, err
	}
	if msg == nil {
		return checkpoint{}, errors.New("the log has no checkpoint")
	}
	return openCheckpoint(msg, v)
}

// rebuild checks that the hash tiles give the tree's root.
func rebuild(r *tileReader, tree tlog.Tree) (tlog.HashReader, error) {
	hashes := tlog.TileHashReader(tree, r)
	root, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return nil, fmt.Errorf("root of %d entries from the tiles: %v", tree.N, err)
	}
	if root != tree.Hash {
		return nil, fmt.Errorf("the tiles hash to %v, the checkpoint says %v", root, tree.Hash)
	}
	return hashes, nil
}

// consistent proves and checks that old's tree is a prefix of tree's.
func consistent(hashes tlog.HashReader, tree, old tlog.Tree) error {
	if old.N > tree.N {
		return fmt.Errorf("the older checkpoint has %d entries, more than %d", old.N, tree.N)
	}
	proof, err := tlog.ProveTree(tree.N, old.N, hashes)
	if err != nil {
		return fmt.Errorf("consistency proof %d -> %d: %v", old.N, tree.N, err)
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		return fmt.Errorf("consistency proof %d -> %d: %v", old.N, tree.N, err)
	}
	return nil
}

func cmdTiles(args []string) error {
	flags := flag.NewFlagSet("tiles", flag.ContinueOnError)
	vkey := flags.String("vkey", "", "file holding the log's C2SP verifier key")
	oldPath := flags.String("old", "", "an older checkpoint of the log to prove consistent with")
	if err := flags.Parse(args); err != nil || flags.NArg() != 1 || *vkey == "" {
		return usageError{"tiles -vkey FILE [-old FILE] LOG"}
	}
	verifier, err := readVerifier(*vkey)
	if err != nil {
		return err
	}
	src := openSource(flags.Arg(0))
	cp, err := logCheckpoint(src, verifier)
	if err != nil {
		return err
	}
	fmt.Printf("checkpoint OK origin=%s signer=%s size=%d root=%v\n", cp.origin, cp.signer, cp.tree.N, cp.tree.Hash)
	reader := newTileReader(src)
	hashes, err := rebuild(reader, cp.tree)
	if err != nil {
		return err
	}
	fmt.Printf("tree OK size=%d tiles=%d cut=%d\n", cp.tree.N, len(reader.read), reader.cut)
	// CheckRecord of every entry is what authenticates the level-0 tiles here: x/mod 0.7.0's
	// TileHashReader checks the tiles of the root's subtrees against the root, but it checks the
	// other full tiles it reads against their parents only from position len(stx) (the count of
	// subtree hashes, not of the tiles holding them), so a full tile read after fewer tiles than
	// that (tile/0/000 of a 567-entry tree) is returned unchecked and ProveRecord succeeds.
	for i := int64(0); i < cp.tree.N; i++ {
		entry, err := reader.entry(cp.tree.N, i)
		if err != nil {
			return err
		}
		proof, err := tlog.ProveRecord(cp.tree.N, i, hashes)
		if err != nil {
			return fmt.Errorf("inclusion proof of entry %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, i, tlog.RecordHash(entry)); err != nil {
			return fmt.Errorf("entry %d is not in the tree: %v", i, err)
		}
	}
	fmt.Printf("entries OK count=%d\n", cp.tree.N)
	if *oldPath == "" {
		return nil
	}
	msg, err := os.ReadFile(*oldPath)
	if err != nil {
		return err
	}
	old, err := openCheckpoint(msg, verifier)
	if err != nil {
		return fmt.Errorf("older %v", err)
	}
	if old.origin != cp.origin {
		return fmt.Errorf("the older checkpoint is of %q, not %q", old.origin, cp.origin)
	}
	if err := consistent(hashes, cp.tree, old.tree); err != nil {
		return err
	}
	oldReader := newTileReader(src)
	if _, err := rebuild(oldReader, old.tree); err != nil {
		return fmt.Errorf("older checkpoint: %v", err)
	}
	fmt.Printf("consistency OK old=%d new=%d old-tree-from-tiles cut=%d\n", old.tree.N, cp.tree.N, oldReader.cut)
	return nil
}

type tlogProof struct {
	index  int64
	hashes tlog.RecordProof
	note   []byte
}

// parseProof parses c2sp.org/tlog-proof@v1 text: the header, an optional "extra" line,
// "index N", the inclusion proof hashes, an empty line and the checkpoint note.
func parseProof(text []byte) (tlogProof, error) {
	head, rest, found := bytes.Cut(text, []byte("\n\n"))
	if !found || len(rest) == 0 {
		return tlogProof{}, errors.New("proof: no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != proofHead {
		return tlogProof{}, fmt.Errorf("proof: the first line is not %s", proofHead)
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return tlogProof{}, errors.New("proof: no index line")
	}
	digits := strings.TrimPrefix(lines[0], "index ")
	index, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || index < 0 || digits != strconv.FormatInt(index, 10) {
		return tlogProof{}, fmt.Errorf("proof: index %q is not decimal", digits)
	}
	proof := tlogProof{index: index, note: rest}
	for i, line := range lines[1:] {
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(raw) != tlog.HashSize {
			return tlogProof{}, fmt.Errorf("proof: hash line %d is not a base64 hash", i)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof.hashes = append(proof.hashes, h)
	}
	return proof, nil
}

func cmdProof(args []string) error {
	flags := flag.NewFlagSet("proof", flag.ContinueOnError)
	vkey := flags.String("vkey", "", "file holding the log's C2SP verifier key")
	log := flags.String("log", "", "the log (tiles directory or URL prefix) holding the entry")
	if err := flags.Parse(args); err != nil || flags.NArg() != 1 || *vkey == "" || *log == "" {
		return usageError{"proof -vkey FILE -log LOG PROOF"}
	}
	verifier, err := readVerifier(*vkey)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(flags.Arg(0))
	if err != nil {
		return err
	}
	proof, err := parseProof(text)
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(proof.note, verifier)
	if err != nil {
		return fmt.Errorf("proof %v", err)
	}
	if proof.index >= cp.tree.N {
		return fmt.Errorf("proof: index %d is not in a tree of %d entries", proof.index, cp.tree.N)
	}
	src := openSource(*log)
	newest, err := logCheckpoint(src, verifier)
	if err != nil {
		return err
	}
	reader := newTileReader(src)
	hashes, err := rebuild(reader, newest.tree)
	if err != nil {
		return err
	}
	if err := consistent(hashes, newest.tree, cp.tree); err != nil {
		return fmt.Errorf("the proof's checkpoint and the log's: %v", err)
	}
	entry, err := reader.entry(newest.tree.N, proof.index)
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(proof.hashes, cp.tree.N, cp.tree.Hash, proof.index, tlog.RecordHash(entry)); err != nil {
		return fmt.Errorf("the inclusion proof of entry %d under the proof's checkpoint: %v", proof.index, err)
	}
	var body struct {
		Envelope struct {
			Payload struct {
				EnvelopeID string `json:"envelope_id"`
			} `json:"payload"`
		} `json:"envelope"`
		LogIndex int64 `json:"log_index"`
	}
	if err := json.Unmarshal(entry, &body); err != nil {
		return fmt.Errorf("entry %d is not JSON: %v", proof.index, err)
	}
	if body.LogIndex != proof.index {
		return fmt.Errorf("entry %d says log_index %d", proof.index, body.LogIndex)
	}
	fmt.Printf("proof OK index=%d size=%d hashes=%d envelope_id=%s consistent-with=%d\n",
		proof.index, cp.tree.N, len(proof.hashes), body.Envelope.Payload.EnvelopeID, newest.tree.N)
	return nil
}

type usageError struct{ usage string }

func (e usageError) Error() string { return "usage: tlogcheck " + e.usage }

func main() {
	var err error = usageError{"tiles|proof ..."}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "tiles":
			err = cmdTiles(os.Args[2:])
		case "proof":
			err = cmdProof(os.Args[2:])
		}
	}
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
	if errors.As(err, new(usageError)) {
		os.Exit(2)
	}
	os.Exit(1)
}
