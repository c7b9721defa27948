package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// config is the part of grafana.ini the stand-in honours, with Grafana's
// defaults.
type config struct {
	AdminUser     string // [security] admin_user
	AdminPassword string // [security] admin_password
	HTTPAddr      string // [server] http_addr
	HTTPPort      int    // [server] http_port
	RootURL       string // [server] root_url
	DataDir       string // [paths] data
}

// loadConfig reads path like Grafana does: a missing file means defaults,
// and GF_<SECTION>_<KEY> environment variables override the file.
func loadConfig(path string) (config, error) {
	c := config{AdminUser: "admin", AdminPassword: "admin", HTTPPort: 3000, DataDir: "/var/lib/grafana"}
	f := ini.Empty()
	if _, err := os.Stat(path); err == nil {
		if f, err = ini.Load(path); err != nil {
			return c, fmt.Errorf("reading %s: %w", path, err)
		}
	} else if !os.IsNotExist(err) {
		return c, fmt.Errorf("reading %s: %w", path, err)
	}
	get := func(section, key, def string) string {
		if v, ok := os.LookupEnv("GF_" + strings.ToUpper(section) + "_" + strings.ToUpper(key)); ok {
			return v
		}
		if k := f.Section(section).Key(key); k.String() != "" {
			return k.String()
		}
		return def
	}
	c.AdminUser = get("security", "admin_user", c.AdminUser)
	c.AdminPassword = get("security", "admin_password", c.AdminPassword)
	c.HTTPAddr = get("server", "http_addr", "")
	c.RootURL = get("server", "root_url", "")
	c.DataDir = get("paths", "data", c.DataDir)
	port := get("server", "http_port", "3000")
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return c, fmt.Errorf("%s: [server] http_port %q is not a port number", path, port)
	}
	c.HTTPPort = p
	if c.AdminUser == "" {
		return c, fmt.Errorf("%s: [security] admin_user is empty", path)
	}
	if !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	return c, nil
}
