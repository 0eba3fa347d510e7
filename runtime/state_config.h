/* state_config: what a container was created with, as its state.json keeps
 * it for inspect (docker's Config, HostConfig, NetworkSettings) and ps (the
 * PORTS column, label filters).
 *
 * Contract
 * - Every field is optional in state.json: files written before a field
 *   existed decode with it empty (NULL, 0). Decoding checks types and
 *   ranges (the file may be damaged) and names the bad field in err.
 * - state.json keys: env, workdir, hostname, cpus, memory, binds, ports
 *   ([{host_ip, host_port, container_port, proto}]), network, ip_address,
 *   labels (a string map: {"KEY":"VALUE"}; the key other front ends use
 *   for labels too), open_stdin (a boolean: run with -i; hull attach forwards
 *   stdin only then), tty (a boolean: run with -t; hull attach's terminal
 *   then goes raw and reads the detach keys).
 * - runtime_config_copy() deep-copies (dst owns everything);
 *   runtime_config_free() frees what dst owns and zeroes it.
 * - Functions return 0 or -errno; no global state. */
#ifndef HULL_RUNTIME_STATE_CONFIG_H
#define HULL_RUNTIME_STATE_CONFIG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

/* A published port (-p [IP:]HOSTPORT:CONTAINERPORT[/udp]). */
struct runtime_port {
	bool udp;
	uint32_t host_ip; /* host byte order; 0: every address (0.0.0.0) */
	uint16_t host_port, guest_port;
};

struct runtime_config {
	char **env; /* KEY=VALUE, as the process got it */
	size_t n_env;
	char *workdir, *hostname; /* NULL: unknown */
	unsigned cpus;
	uint64_t mem_bytes;
	char **binds; /* HOSTDIR:GUESTDIR[:ro] */
	size_t n_binds;
	struct runtime_port *ports;
	size_t n_ports;
	char *network;	  /* "slirp", "tap:NAME", "none"; NULL: unknown */
	char *ip_address; /* the guest's eth0 address; NULL: none */
	char **labels;	  /* KEY=VALUE (docker's --label form) */
	size_t n_labels;
	bool open_stdin; /* -i (docker's Config.OpenStdin) */
	bool tty;	 /* -t (docker's Config.Tty) */
};

/* Add c's fields to the state object o. */
int runtime_config_encode(const struct runtime_config *c, json_object *o);
int runtime_config_decode(json_object *o, struct runtime_config *c, struct errmsg *err);
int runtime_config_copy(struct runtime_config *dst, const struct runtime_config *src);
void runtime_config_free(struct runtime_config *c);

/* "0.0.0.0:8080->80/tcp" (docker ps's form), into buf. */
void runtime_port_text(const struct runtime_port *p, char *buf, size_t n);
/* The labels as a JSON string map {"KEY":"VALUE"} (new reference). */
json_object *runtime_config_labels_json(const struct runtime_config *c);
/* The value of label key (NULL: none); labels are KEY=VALUE. */
const char *runtime_config_label(const struct runtime_config *c, const char *key);

#endif
