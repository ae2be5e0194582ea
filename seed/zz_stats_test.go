package seed
import ("testing";"fmt";"sort")
func TestZZStats(t *testing.T){
	p := testPlan(t, 20000, 42)
	now := testNow()
	d:=0; counts:=make([]int,len(p.users)); 
	for _,o:=range p.orders{counts[o.user]++}
	zero:=0; ge10:=0
	for i,u:=range p.users{ if now.Sub(u.lastActiveAt)>dormantAfter{d++}; if counts[i]==0{zero++}; if counts[i]>=10{ge10++}}
	sc:=append([]int(nil),counts...); sort.Sort(sort.Reverse(sort.IntSlice(sc)))
	top:=0; for _,c:=range sc[:1000]{top+=c}
	fmt.Println("dormant",d,"zero",zero,"ge10",ge10,"orders",len(p.orders),"top5% share",float64(top)/float64(len(p.orders)), "max", sc[0])
	for i:=0;i<5;i++{u:=p.users[i*4000]; fmt.Println(u.username,u.email,u.createdAt,u.lastActiveAt,u.spentCents, p.addresses[max(u.address,0)])}
	for i:=0;i<200;i+=25{fmt.Println(p.products[i])}
	pc:=map[int]int{}; for _,a:=range p.addresses{pc[a.city]++}
	type kv struct{k,v int}; var l []kv; for k,v:=range pc{l=append(l,kv{k,v})}; sort.Slice(l,func(i,j int)bool{return l[i].v>l[j].v})
	for _,x:=range l[:5]{fmt.Println(p.cities[x.k].Name,x.v)}; fmt.Println("median",l[len(l)/2].v, p.cities[l[len(l)/2].k].Name, "min", l[len(l)-1].v, p.cities[l[len(l)-1].k].Name, len(l))
}
