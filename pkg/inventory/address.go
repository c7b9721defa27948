package inventory

import "net/netip"

// Address plan on the bridge subnet (the bridge itself is lxd.network.ipv4):
//
//	base+2 .. base+2+len(inner)   the balancers, outer first
//	base+10+3*slot+{0,1,2}        a tenant's influx, grafana, api containers
const (
	balancerOffset = 2
	tenantOffset   = 10
)

// BalancerAddr is the fixed address of the i-th balancer (0 = outer).
func (inv *Inventory) BalancerAddr(i int) netip.Addr {
	return nth(inv.Prefix(), balancerOffset+i)
}

// OuterAddr is lb0's address.
func (inv *Inventory) OuterAddr() netip.Addr { return inv.BalancerAddr(0) }

// InnerAddr is the address of the inner balancer called name.
func (inv *Inventory) InnerAddr(name string) netip.Addr {
	for i, n := range inv.Balancers.Inner {
		if n == name {
			return inv.BalancerAddr(i + 1)
		}
	}
	return netip.Addr{}
}

// TenantAddr is the fixed address of a tenant's role container.
func (inv *Inventory) TenantAddr(t Tenant, r Role) netip.Addr {
	slot := 0
	if t.Slot != nil {
		slot = *t.Slot
	}
	idx := 0
	for i, rr := range Roles {
		if rr == r {
			idx = i
		}
	}
	return nth(inv.Prefix(), tenantOffset+len(Roles)*slot+idx)
}

// MaxSlots is how many tenants the subnet has addresses for.
func MaxSlots(p netip.Prefix) int {
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits >= 31 {
		return 1 << 28
	}
	usable := (1 << hostBits) - 1 - tenantOffset // minus broadcast
	if usable < 0 {
		return 0
	}
	return usable / len(Roles)
}

// nth returns the n-th address of p (0 = the network address).
func nth(p netip.Prefix, n int) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
