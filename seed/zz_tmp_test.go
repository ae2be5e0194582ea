package seed
import ("testing";"context";"os";"meridian/internal/testdb")
func TestZZNE100k(t *testing.T){
	db := testdb.Open(t, "postgres")
	s, err := Generate(context.Background(), db.Client, Options{Users:100000, Seed:1, GeoDir: sharedGeoDir(t), Progress: os.Stderr})
	t.Logf("%+v %v", s, err)
}
