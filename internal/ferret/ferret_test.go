package ferret

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestStart: the URI answers a ping and a round trip of a document.
func TestStart(t *testing.T) {
	uri := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("ping %s: %v", uri, err)
	}
	coll := c.Database("t").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil || got.N != 1 {
		t.Fatalf("find = %+v, %v", got, err)
	}
}

// TestOnlyTestsImportIt: no package of the module links this package or
// FerretDB outside its tests (go list's Deps leave test imports out).
func TestOnlyTestsImportIt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/meridian-graphql/meridian/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if pkg == "github.com/meridian-graphql/meridian/internal/ferret" {
			continue
		}
		for _, d := range strings.Fields(deps) {
			if d == "github.com/meridian-graphql/meridian/internal/ferret" || strings.HasPrefix(d, "github.com/FerretDB/") {
				t.Errorf("%s links %s: import internal/ferret only from _test.go files", pkg, d)
				break
			}
		}
	}
}

// TestParallelStarts: Start is safe from parallel tests (run with -race).
func TestParallelStarts(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			c, err := mongo.Connect(options.Client().ApplyURI(Start(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Disconnect(context.Background())
			if err := c.Ping(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
