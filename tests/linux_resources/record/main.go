// Records tests/linux_resources' expectations from the reference: converts ../Dockerfile with
// dockerfile2llb of docker/dockerfile 1.26 given every LLB cap and the limits below (the ones
// tests/linux_resources.rs gives mstage), marshals it for linux/amd64 and writes, into the
// directory named by the only argument, the Definition deterministically marshalled
// (definition.hex), its metadata through encoding/json (metadata.json) and the caps (caps.txt).
//
// Not part of the build: it needs BuildKit's vendored tree. Run it from that tree with an
// overlay that places this file there, e.g.
//
//	echo '{"Replace":{"'$REF'/examples/record/main.go":"'$PWD'/tests/linux_resources/record/main.go"}}' >/tmp/ov.json
//	(cd $REF && GOFLAGS=-mod=vendor go run -overlay /tmp/ov.json ./examples/record $OLDPWD/tests/linux_resources) <tests/linux_resources/Dockerfile
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

func main() {
	if err := record(os.Args[1]); err != nil {
		panic(err)
	}
}

func record(dir string) error {
	df, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	caps := pb.Caps.CapSet(pb.Caps.All())
	res, err := dockerfile2llb.Dockerfile2LLB(context.TODO(), df, dockerfile2llb.ConvertOpt{
		LLBCaps:   &caps,
		SourceMap: llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", df),
		Config: dockerui.Config{
			LinuxResources: &pb.LinuxResources{
				Memory: 268435456, MemorySwap: -1, CpuShares: 512, CpuPeriod: 100000,
				CpuQuota: 50000, CpusetCpus: "0-1", CpusetMems: "0",
			},
		},
	})
	if err != nil {
		return err
	}
	def, err := res.State.Marshal(context.TODO(), llb.LinuxAmd64)
	if err != nil {
		return err
	}
	bytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(def.ToPB())
	if err != nil {
		return err
	}
	text := hex.EncodeToString(bytes)
	var lines []string
	for len(text) > 64 {
		lines = append(lines, text[:64])
		text = text[64:]
	}
	lines = append(lines, text)
	if err := write(dir, "definition.hex", strings.Join(lines, "\n")+"\n"); err != nil {
		return err
	}
	metadata, err := json.MarshalIndent(def.Metadata, "", "  ")
	if err != nil {
		return err
	}
	if err := write(dir, "metadata.json", string(metadata)+"\n"); err != nil {
		return err
	}
	var names []string
	for _, c := range pb.Caps.All() {
		names = append(names, string(c.ID))
	}
	sort.Strings(names)
	return write(dir, "caps.txt", strings.Join(names, "\n")+"\n")
}

func write(dir, name, data string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
}
