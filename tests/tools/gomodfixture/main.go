// Command gomodfixture builds and serves the Go module proxy and checksum database used by the
// gomodprobe integration tests (tests/integration/go_fixture.h), so that the real go command can
// be the reference client. Only the standard library and golang.org/x/mod are used; build with
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gomodfixture ./tests/tools/gomodfixture
//
// Subcommands:
//
//	gomodfixture tree -src DIR -out DIR [-tamper-zip M@V[,M@V]] [-tamper-mod M@V[,M@V]]
//	                  [-only M@V[,M@V]]
//	    Converts the cmd/go test corpus (txtar-like "path_vers.txt" files, see
//	    $GOROOT/src/cmd/go/testdata/mod/README) into a static GOPROXY tree:
//	    <escaped path>/@v/list, <v>.info, <v>.mod, <v>.zip and <escaped path>/@latest.
//	    With -only just those versions' .info/.mod/.zip (no list, no @latest): an overlay to
//	    serve in front of a full tree.
//	    Zips are made by golang.org/x/mod/zip.Create. Writes OUT/gosum.txt (go.sum lines of
//	    what was written, sorted) and OUT/modules.txt (one M@V per line). With -tamper-zip one
//	    file inside that module's zip is changed; with -tamper-mod its .mod is changed; gosum.txt
//	    then holds the hashes of the tampered files (compare with an untampered tree's).
//	    Corpus files that cannot be represented are skipped with a note on stderr.
//
//	gomodfixture sumdb -name NAME -gosum FILE -key-out FILE [-seed N] [-preload M@V,...]
//	                   [-listen 127.0.0.1:0 | -listen-fd FD]
//	    Serves a checksum database (golang.org/x/mod/sumdb.NewServer over NewTestServer) whose
//	    records are the gosum.txt lines. The signing key is derived from -seed, so a restart
//	    with the same seed keeps the key. Records are added in lookup order; -preload looks
//	    the given modules up at start-up, in that order (restart with another order = fork).
//	    Writes the verifier key to -key-out, then prints "listening on 127.0.0.1:PORT".
//	    A tile that needs hashes beyond the current tree is 404, as on sum.golang.org (the
//	    x/mod test server would panic and drop the connection).
//
//	gomodfixture key -name NAME [-seed N]
//	    Prints the verifier key that "sumdb -seed N" would use.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/mod/zip"
)

// fixedTime is the .info Time of corpus modules whose archive has no usable .info section.
const fixedTime = "2019-01-01T00:00:00Z"

// tamperMarker is appended to the tampered file (zip member or .mod).
const tamperMarker = "// tampered by gomodfixture\n"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gomodfixture: ")
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "tree":
		treeCmd(os.Args[2:])
	case "sumdb":
		sumdbCmd(os.Args[2:])
	case "key":
		keyCmd(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gomodfixture tree|sumdb|key [flags] (see the source for details)")
	os.Exit(2)
}

// ---- txtar ----------------------------------------------------------------------------------

type archiveFile struct {
	name string
	data []byte
}

// parseArchive parses the txtar format of golang.org/x/tools/txtar: a comment, then files
// introduced by "-- NAME --" marker lines; each file's data ends with a newline.
func parseArchive(data []byte) []archiveFile {
	var files []archiveFile
	_, name, data := findMarker(data)
	for name != "" {
		f := archiveFile{name: name}
		f.data, name, data = findMarker(data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			f.data = append(f.data, '\n')
		}
		files = append(files, f)
	}
	return files
}

// findMarker returns the data before the next marker line, the marker's name and the data after
// the marker line; name is "" if there is no further marker.
func findMarker(data []byte) (before []byte, name string, after []byte) {
	var i int
	for {
		if name, after = isMarker(data[i:]); name != "" {
			return data[:i], name, after
		}
		j := bytes.Index(data[i:], []byte("\n-- "))
		if j < 0 {
			return data, "", nil
		}
		i += j + 1
	}
}

func isMarker(data []byte) (name string, after []byte) {
	if !bytes.HasPrefix(data, []byte("-- ")) {
		return "", nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data, after = data[:i], data[i+1:]
	}
	if !bytes.HasSuffix(data, []byte(" --")) || len(data) < len("-- x --") {
		return "", nil
	}
	return strings.TrimSpace(string(data[3 : len(data)-3])), after
}

// ---- tree -----------------------------------------------------------------------------------

type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string { return f.name }
func (f memFile) Lstat() (fs.FileInfo, error) {
	return memInfo{name: path.Base(f.name), size: int64(len(f.data))}, nil
}
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

type builtModule struct {
	mod     module.Version
	info    []byte
	zipHash string
	modHash string
}

func splitList(s string) map[string]bool {
	set := make(map[string]bool)
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			set[item] = true
		}
	}
	return set
}

func treeCmd(args []string) {
	flags := flag.NewFlagSet("tree", flag.ExitOnError)
	src := flags.String("src", "", "corpus directory ($GOROOT/src/cmd/go/testdata/mod)")
	out := flags.String("out", "", "output directory (GOPROXY tree)")
	tamperZip := flags.String("tamper-zip", "", "M@V[,M@V]: change one file inside the zip")
	tamperMod := flags.String("tamper-mod", "", "M@V[,M@V]: change the .mod file")
	only := flags.String("only", "", "M@V[,M@V]: write an overlay with just these versions")
	flags.Parse(args)
	if *src == "" || *out == "" || flags.NArg() != 0 {
		log.Fatal("tree: -src and -out are required")
	}
	zipSet, modSet, onlySet := splitList(*tamperZip), splitList(*tamperMod), splitList(*only)

	entries, err := os.ReadDir(*src)
	if err != nil {
		log.Fatal(err)
	}
	var built []builtModule
	found := make(map[string]bool)
	skipped := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".txt") {
			continue
		}
		if *only != "" {
			if m, err := moduleFromFileName(name); err != nil || !onlySet[m.String()] {
				continue
			}
		}
		m, err := buildModule(filepath.Join(*src, name), *out, zipSet, modSet)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", name, err)
			skipped++
			continue
		}
		delete(zipSet, m.mod.String())
		delete(modSet, m.mod.String())
		found[m.mod.String()] = true
		built = append(built, m)
	}
	for mv := range zipSet {
		log.Fatalf("tree: -tamper-zip %s: no such module in the tree", mv)
	}
	for mv := range modSet {
		log.Fatalf("tree: -tamper-mod %s: no such module in the tree", mv)
	}
	for mv := range onlySet {
		if !found[mv] {
			log.Fatalf("tree: -only %s: no such module in the corpus", mv)
		}
	}
	sort.Slice(built, func(i, j int) bool {
		a, b := built[i].mod, built[j].mod
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return semver.Compare(a.Version, b.Version) < 0
	})
	if err := writeIndexes(*out, built, *only == ""); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %d modules to %s (%d corpus files skipped)\n", len(built), *out, skipped)
}

func moduleFromFileName(file string) (module.Version, error) {
	name := strings.TrimSuffix(filepath.Base(file), ".txt")
	i := strings.LastIndex(name, "_v")
	if i < 0 {
		return module.Version{}, errors.New("name has no _v<version>")
	}
	p, err := module.UnescapePath(strings.ReplaceAll(name[:i], "_", "/"))
	if err != nil {
		return module.Version{}, err
	}
	v, err := module.UnescapeVersion(name[i+1:])
	if err != nil {
		return module.Version{}, err
	}
	return module.Version{Path: p, Version: v}, nil
}

func buildModule(file, out string, zipSet, modSet map[string]bool) (builtModule, error) {
	m, err := moduleFromFileName(file)
	if err != nil {
		return builtModule{}, err
	}
	if err := module.Check(m.Path, m.Version); err != nil {
		return builtModule{}, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return builtModule{}, err
	}
	var gomod, infoSection []byte
	var files []zip.File
	for _, f := range parseArchive(data) {
		switch {
		case f.name == ".mod":
			gomod = f.data
		case f.name == ".info":
			infoSection = f.data
		case strings.HasPrefix(f.name, "/"):
			return builtModule{}, fmt.Errorf("file %q names a zip entry outside path@version/", f.name)
		default:
			files = append(files, memFile{name: f.name, data: f.data})
		}
	}
	if gomod == nil {
		return builtModule{}, errors.New("no .mod section")
	}

	if zipSet[m.String()] {
		if err := tamperOneFile(files); err != nil {
			return builtModule{}, err
		}
	}
	if modSet[m.String()] {
		gomod = append(append([]byte{}, gomod...), tamperMarker...)
	}

	var zipData bytes.Buffer
	if err := zip.Create(&zipData, m, files); err != nil {
		return builtModule{}, err
	}

	timeText := fixedTime
	if infoSection != nil {
		var section struct{ Time string }
		if json.Unmarshal(infoSection, &section) == nil {
			if _, err := time.Parse(time.RFC3339, section.Time); err == nil {
				timeText = section.Time
			}
		}
	}
	info, err := json.Marshal(struct{ Version, Time string }{m.Version, timeText})
	if err != nil {
		return builtModule{}, err
	}
	info = append(info, '\n')

	escPath, err := module.EscapePath(m.Path)
	if err != nil {
		return builtModule{}, err
	}
	escVers, err := module.EscapeVersion(m.Version)
	if err != nil {
		return builtModule{}, err
	}
	dir := filepath.Join(out, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return builtModule{}, err
	}
	base := filepath.Join(dir, escVers)
	for ext, content := range map[string][]byte{".info": info, ".mod": gomod, ".zip": zipData.Bytes()} {
		if err := os.WriteFile(base+ext, content, 0o644); err != nil {
			return builtModule{}, err
		}
	}

	zipHash, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	if err != nil {
		return builtModule{}, err
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
	if err != nil {
		return builtModule{}, err
	}
	return builtModule{mod: m, info: info, zipHash: zipHash, modHash: modHash}, nil
}

// tamperOneFile changes the content of one file that zip.Create keeps: the first .go file in
// the module root if there is one, else the first root file, else the first file.
func tamperOneFile(files []zip.File) error {
	best := -1
	rank := func(name string) int {
		switch {
		case !strings.Contains(name, "/") && strings.HasSuffix(name, ".go"):
			return 0
		case !strings.Contains(name, "/"):
			return 1
		}
		return 2
	}
	for i, f := range files {
		if best < 0 || rank(f.Path()) < rank(files[best].Path()) ||
			(rank(f.Path()) == rank(files[best].Path()) && f.Path() < files[best].Path()) {
			best = i
		}
	}
	if best < 0 {
		return errors.New("-tamper-zip: the module has no files")
	}
	f := files[best].(memFile)
	f.data = append(append([]byte{}, f.data...), tamperMarker...)
	files[best] = f
	return nil
}

// writeIndexes writes gosum.txt and modules.txt, and with lists @v/list and @latest per module
// path.
func writeIndexes(out string, built []builtModule, lists bool) error {
	byPath := make(map[string][]builtModule)
	var paths []string
	var gosum, modules bytes.Buffer
	for _, b := range built {
		if _, ok := byPath[b.mod.Path]; !ok {
			paths = append(paths, b.mod.Path)
		}
		byPath[b.mod.Path] = append(byPath[b.mod.Path], b)
		fmt.Fprintf(&gosum, "%s %s %s\n%s %s/go.mod %s\n", b.mod.Path, b.mod.Version, b.zipHash,
			b.mod.Path, b.mod.Version, b.modHash)
		fmt.Fprintf(&modules, "%s\n", b.mod)
	}
	for _, p := range paths {
		if !lists {
			break
		}
		escPath, err := module.EscapePath(p)
		if err != nil {
			return err
		}
		// Like proxy.golang.org: list has no pseudo-versions; @latest prefers the highest
		// release, then the highest prerelease, then the highest pseudo-version.
		var list bytes.Buffer
		var release, prerelease, pseudo *builtModule
		for i := range byPath[p] {
			b := &byPath[p][i]
			v := b.mod.Version
			switch {
			case module.IsPseudoVersion(v):
				pseudo = b
			case semver.Prerelease(v) != "":
				prerelease = b
				fmt.Fprintf(&list, "%s\n", v)
			default:
				release = b
				fmt.Fprintf(&list, "%s\n", v)
			}
		}
		dir := filepath.Join(out, filepath.FromSlash(escPath))
		if err := os.WriteFile(filepath.Join(dir, "@v", "list"), list.Bytes(), 0o644); err != nil {
			return err
		}
		latest := release
		if latest == nil {
			latest = prerelease
		}
		if latest == nil {
			latest = pseudo
		}
		if err := os.WriteFile(filepath.Join(dir, "@latest"), latest.info, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "gosum.txt"), gosum.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "modules.txt"), modules.Bytes(), 0o644)
}

// ---- sumdb ----------------------------------------------------------------------------------

// seededReader is a deterministic byte stream: SHA-256("gomodfixture" || seed || counter).
type seededReader struct {
	seed    uint64
	counter uint64
	buf     []byte
}

func (r *seededReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			var block [len("gomodfixture") + 16]byte
			copy(block[:], "gomodfixture")
			binary.BigEndian.PutUint64(block[len("gomodfixture"):], r.seed)
			binary.BigEndian.PutUint64(block[len("gomodfixture")+8:], r.counter)
			r.counter++
			sum := sha256.Sum256(block[:])
			r.buf = sum[:]
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return n, nil
}

func generateKey(name string, seed uint64) (skey, vkey string) {
	skey, vkey, err := note.GenerateKey(&seededReader{seed: seed}, name)
	if err != nil {
		log.Fatal(err)
	}
	return skey, vkey
}

func keyCmd(args []string) {
	flags := flag.NewFlagSet("key", flag.ExitOnError)
	name := flags.String("name", "", "checksum database name")
	seed := flags.Uint64("seed", 1, "key seed")
	flags.Parse(args)
	if *name == "" || flags.NArg() != 0 {
		log.Fatal("key: -name is required")
	}
	_, vkey := generateKey(*name, *seed)
	fmt.Println(vkey)
}

// readGosum maps "path version" to the two go.sum lines of that module version.
func readGosum(file string) (map[string][]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	zipLines := make(map[string]string)
	modLines := make(map[string]string)
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: malformed go.sum line", file, n+1)
		}
		if v := strings.TrimSuffix(fields[1], "/go.mod"); v != fields[1] {
			modLines[fields[0]+" "+v] = line
		} else {
			zipLines[fields[0]+" "+fields[1]] = line
		}
	}
	records := make(map[string][]byte)
	for key, zipLine := range zipLines {
		if modLine, ok := modLines[key]; ok {
			records[key] = []byte(zipLine + "\n" + modLine + "\n")
		}
	}
	return records, nil
}

// boundedOps serves a tile that reaches past the tree as "does not exist" (404): TestServer's
// hash storage is a slice indexed without a bounds check, so such a read panics, and the panic is
// exactly the "beyond the tree" case (the mutex is released by TestServer's own defer).
type boundedOps struct {
	*sumdb.TestServer
}

func (o boundedOps) ReadTileData(ctx context.Context, t tlog.Tile) (data []byte, err error) {
	defer func() {
		if recover() != nil {
			data, err = nil, &fs.PathError{Op: "read", Path: t.Path(), Err: fs.ErrNotExist}
		}
	}()
	return o.TestServer.ReadTileData(ctx, t)
}

type loggingResponseWriter struct {
	http.ResponseWriter
	status int
}

func (w *loggingResponseWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func sumdbCmd(args []string) {
	flags := flag.NewFlagSet("sumdb", flag.ExitOnError)
	name := flags.String("name", "", "checksum database name")
	gosumFile := flags.String("gosum", "", "go.sum-style records (gosum.txt of a tree)")
	listen := flags.String("listen", "127.0.0.1:0", "address to listen on")
	listenFd := flags.Int("listen-fd", -1, "inherited listening socket to serve on instead")
	keyOut := flags.String("key-out", "", "file to write the verifier key to")
	seed := flags.Uint64("seed", 1, "key seed (same seed, same key)")
	preload := flags.String("preload", "", "M@V,M@V: look these up at start-up, in this order")
	flags.Parse(args)
	if *name == "" || *gosumFile == "" || *keyOut == "" || flags.NArg() != 0 {
		log.Fatal("sumdb: -name, -gosum and -key-out are required")
	}

	records, err := readGosum(*gosumFile)
	if err != nil {
		log.Fatal(err)
	}
	gosum := func(p, v string) ([]byte, error) {
		if data, ok := records[p+" "+v]; ok {
			return data, nil
		}
		return nil, &fs.PathError{Op: "lookup", Path: p + "@" + v, Err: fs.ErrNotExist}
	}
	skey, vkey := generateKey(*name, *seed)
	ops := sumdb.NewTestServer(skey, gosum)
	for _, item := range strings.Split(*preload, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		i := strings.LastIndex(item, "@")
		if i < 0 {
			log.Fatalf("sumdb: -preload %q: want M@V", item)
		}
		m := module.Version{Path: item[:i], Version: item[i+1:]}
		if _, err := ops.Lookup(context.Background(), m); err != nil {
			log.Fatalf("sumdb: -preload %s: %v", item, err)
		}
	}
	if err := os.WriteFile(*keyOut, []byte(vkey+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	var l net.Listener
	if *listenFd >= 0 {
		l, err = net.FileListener(os.NewFile(uintptr(*listenFd), "listener"))
	} else {
		l, err = net.Listen("tcp", *listen)
	}
	if err != nil {
		log.Fatal(err)
	}
	server := sumdb.NewServer(boundedOps{ops})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &loggingResponseWriter{ResponseWriter: w, status: http.StatusOK}
		server.ServeHTTP(lw, r)
		log.Printf("%s %s -> %d", r.Method, r.URL.Path, lw.status)
	})
	fmt.Printf("listening on %s\n", l.Addr())
	log.Fatal(http.Serve(l, handler))
}
