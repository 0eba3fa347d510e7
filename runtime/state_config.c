#include "state_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *str_array(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void ip_text(uint32_t ip, char *buf, size_t n)
{
	struct in_addr a = {.s_addr = htonl(ip)};
	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
}

void runtime_port_text(const struct runtime_port *p, char *buf, size_t n)
{
	char ip[INET_ADDRSTRLEN];
	ip_text(p->host_ip, ip, sizeof(ip));
	snprintf(buf, n, "%s:%u->%u/%s", ip, p->host_port, p->guest_port, p->udp ? "udp" : "tcp");
}

const char *runtime_config_label(const struct runtime_config *c, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < c->n_labels; i++)
		if (!strncmp(c->labels[i], key, kl) && c->labels[i][kl] == '=')
			return c->labels[i] + kl + 1;
	return NULL;
}

json_object *runtime_config_labels_json(const struct runtime_config *c)
{
	json_object *labels = json_object_new_object();
	for (size_t i = 0; labels && i < c->n_labels; i++) {
		const char *eq = strchr(c->labels[i], '=');
		size_t kl = eq ? (size_t)(eq - c->labels[i]) : strlen(c->labels[i]);
		char *k = strndup(c->labels[i], kl);
		if (k)
			json_object_object_add(labels, k, json_object_new_string(eq ? eq + 1 : ""));
		free(k);
	}
	return labels;
}

int runtime_config_encode(const struct runtime_config *c, json_object *o)
{
	if (c->n_env || c->env)
		json_object_object_add(o, "env", str_array(c->env, c->n_env));
	if (c->workdir)
		json_object_object_add(o, "workdir", json_object_new_string(c->workdir));
	if (c->hostname)
		json_object_object_add(o, "hostname", json_object_new_string(c->hostname));
	json_object_object_add(o, "cpus", json_object_new_int64(c->cpus));
	json_object_object_add(o, "memory", json_object_new_uint64(c->mem_bytes));
	json_object_object_add(o, "binds", str_array(c->binds, c->n_binds));
	json_object *ports = json_object_new_array();
	for (size_t i = 0; ports && i < c->n_ports; i++) {
		const struct runtime_port *p = &c->ports[i];
		char ip[INET_ADDRSTRLEN];
		ip_text(p->host_ip, ip, sizeof(ip));
		json_object *e = json_object_new_object();
		json_object_object_add(e, "host_ip", json_object_new_string(ip));
		json_object_object_add(e, "host_port", json_object_new_int(p->host_port));
		json_object_object_add(e, "container_port", json_object_new_int(p->guest_port));
		json_object_object_add(e, "proto", json_object_new_string(p->udp ? "udp" : "tcp"));
		json_object_array_add(ports, e);
	}
	json_object_object_add(o, "ports", ports);
	if (c->network)
		json_object_object_add(o, "network", json_object_new_string(c->network));
	if (c->ip_address)
		json_object_object_add(o, "ip_address", json_object_new_string(c->ip_address));
	json_object_object_add(o, "labels", runtime_config_labels_json(c));
	json_object_object_add(o, "open_stdin", json_object_new_boolean(c->open_stdin));
	json_object_object_add(o, "tty", json_object_new_boolean(c->tty));
	return 0;
}

static int bad(struct errmsg *err, const char *field)
{
	return errmsg_set(err, -EINVAL, "state.json: field \"%s\" invalid", field);
}

/* An optional field of type t: 0 with *v NULL when absent. */
static int opt(json_object *o, const char *k, json_type t, json_object **v)
{
	*v = NULL;
	if (!json_object_object_get_ex(o, k, v))
		return 0;
	return json_object_is_type(*v, t) ? 0 : -EINVAL;
}

static int strs(json_object *o, const char *k, char ***out, size_t *n, struct errmsg *err)
{
	json_object *v;
	if (opt(o, k, json_type_array, &v))
		return bad(err, k);
	if (!v)
		return 0;
	size_t len = json_object_array_length(v);
	if (!(*out = calloc(len + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return bad(err, k);
		if (!((*out)[i] = strdup(json_object_get_string(e))))
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int str(json_object *o, const char *k, char **out, struct errmsg *err)
{
	json_object *v;
	if (opt(o, k, json_type_string, &v))
		return bad(err, k);
	if (v && !(*out = strdup(json_object_get_string(v))))
		return -ENOMEM;
	return 0;
}

static int num(json_object *o, const char *k, uint64_t hi, uint64_t *out, struct errmsg *err)
{
	json_object *v;
	if (opt(o, k, json_type_int, &v))
		return bad(err, k);
	if (!v)
		return 0;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < 0 || (uint64_t)x > hi)
		return bad(err, k);
	*out = (uint64_t)x;
	return 0;
}

static int port(json_object *e, struct runtime_port *p)
{
	json_object *v;
	struct in_addr a;
	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "host_ip", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    inet_pton(AF_INET, json_object_get_string(v), &a) != 1)
		return -EINVAL;
	p->host_ip = ntohl(a.s_addr);
	const char *k[2] = {"host_port", "container_port"};
	uint16_t *dst[2] = {&p->host_port, &p->guest_port};
	for (int i = 0; i < 2; i++) {
		if (!json_object_object_get_ex(e, k[i], &v) ||
		    !json_object_is_type(v, json_type_int))
			return -EINVAL;
		int64_t x = json_object_get_int64(v);
		if (x < 1 || x > 65535)
			return -EINVAL;
		*dst[i] = (uint16_t)x;
	}
	if (!json_object_object_get_ex(e, "proto", &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *pr = json_object_get_string(v);
	if (strcmp(pr, "tcp") && strcmp(pr, "udp"))
		return -EINVAL;
	p->udp = !strcmp(pr, "udp");
	return 0;
}

static int decode(json_object *o, struct runtime_config *c, struct errmsg *err)
{
	int rc;
	uint64_t x = 0;
	if ((rc = strs(o, "env", &c->env, &c->n_env, err)) ||
	    (rc = str(o, "workdir", &c->workdir, err)) ||
	    (rc = str(o, "hostname", &c->hostname, err)) || (rc = num(o, "cpus", 4096, &x, err)) ||
	    (c->cpus = (unsigned)x, rc = num(o, "memory", UINT64_MAX, &c->mem_bytes, err)) ||
	    (rc = strs(o, "binds", &c->binds, &c->n_binds, err)) ||
	    (rc = str(o, "network", &c->network, err)) ||
	    (rc = str(o, "ip_address", &c->ip_address, err)))
		return rc;
	json_object *v;
	if (opt(o, "ports", json_type_array, &v))
		return bad(err, "ports");
	size_t n = v ? json_object_array_length(v) : 0;
	if (n && !(c->ports = calloc(n, sizeof(*c->ports))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++, c->n_ports++)
		if (port(json_object_array_get_idx(v, i), &c->ports[i]))
			return bad(err, "ports");
	if (opt(o, "open_stdin", json_type_boolean, &v))
		return bad(err, "open_stdin");
	c->open_stdin = v && json_object_get_boolean(v);
	if (opt(o, "tty", json_type_boolean, &v))
		return bad(err, "tty");
	c->tty = v && json_object_get_boolean(v);
	if (opt(o, "labels", json_type_object, &v))
		return bad(err, "labels");
	n = v ? (size_t)json_object_object_length(v) : 0;
	if (n && !(c->labels = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	if (v) {
		json_object_object_foreach(v, key, val)
		{
			if (!json_object_is_type(val, json_type_string) || !key[0] ||
			    strchr(key, '='))
				return bad(err, "labels");
			if (asprintf(&c->labels[c->n_labels], "%s=%s", key,
				     json_object_get_string(val)) < 0) {
				c->labels[c->n_labels] = NULL;
				return -ENOMEM;
			}
			c->n_labels++;
		}
	}
	return 0;
}

int runtime_config_decode(json_object *o, struct runtime_config *c, struct errmsg *err)
{
	memset(c, 0, sizeof(*c));
	int rc = decode(o, c, err);
	if (rc)
		runtime_config_free(c);
	return rc;
}

static int copy_strs(char ***dst, size_t *dn, char *const *src, size_t n)
{
	if (!n)
		return 0;
	if (!(*dst = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (*dn = 0; *dn < n; (*dn)++)
		if (!((*dst)[*dn] = strdup(src[*dn])))
			return -ENOMEM;
	return 0;
}

static int copy_str(char **dst, const char *src)
{
	return src && !(*dst = strdup(src)) ? -ENOMEM : 0;
}

int runtime_config_copy(struct runtime_config *dst, const struct runtime_config *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->cpus = src->cpus;
	dst->mem_bytes = src->mem_bytes;
	dst->open_stdin = src->open_stdin;
	dst->tty = src->tty;
	int rc = copy_strs(&dst->env, &dst->n_env, src->env, src->n_env);
	if (!rc)
		rc = copy_strs(&dst->binds, &dst->n_binds, src->binds, src->n_binds);
	if (!rc)
		rc = copy_strs(&dst->labels, &dst->n_labels, src->labels, src->n_labels);
	if (!rc &&
	    (copy_str(&dst->workdir, src->workdir) || copy_str(&dst->hostname, src->hostname) ||
	     copy_str(&dst->network, src->network) || copy_str(&dst->ip_address, src->ip_address)))
		rc = -ENOMEM;
	if (!rc && src->n_ports) {
		if (!(dst->ports = calloc(src->n_ports, sizeof(*dst->ports))))
			rc = -ENOMEM;
		else
			memcpy(dst->ports, src->ports, src->n_ports * sizeof(*dst->ports));
		dst->n_ports = rc ? 0 : src->n_ports;
	}
	if (rc)
		runtime_config_free(dst);
	return rc;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void runtime_config_free(struct runtime_config *c)
{
	free_strs(c->env, c->n_env);
	free_strs(c->binds, c->n_binds);
	free_strs(c->labels, c->n_labels);
	free(c->workdir);
	free(c->hostname);
	free(c->network);
	free(c->ip_address);
	free(c->ports);
	memset(c, 0, sizeof(*c));
}
