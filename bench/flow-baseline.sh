# shellcheck shell=bash
# The steps of `up --profile demo` after the boot, done by hand: sourced by
# `bench/boot-baseline.sh IMAGE_DIR PORT_BASE NODES ACCEL flow` (it sets work, nodes, port_base).
# What an operator would script: openssl for the CA and the node certificates (ECDSA P-256, the
# node's name and IP as SANs), then per node and all nodes at once one ssh session that unpacks the
# certificates, writes the cluster's hosts entries, installs the disk (plasma-disk) and starts etcd
# with the demo's flags; then, on node01, etcdctl until every member is healthy (quorum), and a
# put / get / delete (CRUD). Only 127.0.0.1 (the forwarded SSH ports) is contacted.

flow_name() { printf 'node%02d' "$1"; }
flow_ip() { echo "192.168.100.$((10 + $1))"; }

flow_certificates() {
	local t0 i name
	t0=$(now)
	mkdir -p "$work/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
		-subj "/CN=plasma-tui demo CA" -keyout "$work/pki/ca.key" -out "$work/pki/ca.crt" 2>/dev/null
	for i in $(seq 1 "$nodes"); do
		name=$(flow_name "$i")
		mkdir -p "$work/$name/secrets"
		cp "$work/pki/ca.crt" "$work/$name/secrets/ca.crt"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
			-keyout "$work/$name/secrets/$name.key" -out "$work/$name/req.csr" 2>/dev/null
		printf 'subjectAltName=DNS:%s,IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$name" "$(flow_ip "$i")" >"$work/$name/ext.cnf"
		openssl x509 -req -in "$work/$name/req.csr" -CA "$work/pki/ca.crt" -CAkey "$work/pki/ca.key" -CAcreateserial \
			-days 365 -extfile "$work/$name/ext.cnf" -out "$work/$name/secrets/$name.crt" 2>/dev/null
		chmod 400 "$work/$name/secrets/$name.key"
	done
	echo "certificates $(since "$t0")"
}

flow_ssh() {
	local port=$1; shift
	ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
		-o LogLevel=ERROR -i "$work/id_ed25519" -p "$port" root@127.0.0.1 "$@"
}

flow_install_one() {
	local i=$1 name ip cluster='' hosts='' j secrets=/etc/plasma/secrets
	name=$(flow_name "$i"); ip=$(flow_ip "$i")
	for j in $(seq 1 "$nodes"); do
		cluster="$cluster${cluster:+,}$(flow_name "$j")=https://$(flow_name "$j"):2380"
		hosts="$hosts$(flow_ip "$j") $(flow_name "$j")\n"
	done
	tar -C "$work/$name/secrets" -cf - . | flow_ssh $((port_base + i - 1)) "set -e
		mkdir -p $secrets && tar -xf - -C $secrets && chmod 700 $secrets
		sed -i '/^127.0.1.1 /d' /etc/hosts && printf '$hosts' >> /etc/hosts
		/sbin/plasma-disk install $secrets
		/sbin/svc start etcd etcd --name $name --data-dir /var/lib/etcd/$name \
			--listen-client-urls https://$ip:2379,https://127.0.0.1:2379 --advertise-client-urls https://$name:2379 \
			--listen-peer-urls https://$ip:2380 --initial-advertise-peer-urls https://$name:2380 \
			--initial-cluster $cluster --initial-cluster-token demo --initial-cluster-state new \
			--client-cert-auth --trusted-ca-file $secrets/ca.crt --cert-file $secrets/$name.crt --key-file $secrets/$name.key \
			--peer-client-cert-auth --peer-trusted-ca-file $secrets/ca.crt --peer-cert-file $secrets/$name.crt --peer-key-file $secrets/$name.key --heartbeat-interval 200 --election-timeout 2000" >"$work/$name/install.log" 2>&1 \
		|| { echo "install-failed $name: $(tail -n 3 "$work/$name/install.log" | tr '\n' ' ')"; return 1; }
}

flow_install_and_check() {
	local t0 i pids=() ok=1 endpoints='' s=/etc/plasma/secrets
	t0=$(now)
	for i in $(seq 1 "$nodes"); do flow_install_one "$i" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || ok=0; done
	[ "$ok" = 1 ] || return 1
	echo "installed $(since "$t0")"
	for i in $(seq 1 "$nodes"); do endpoints="$endpoints${endpoints:+,}https://$(flow_name "$i"):2379"; done
	t0=$(now)
	# Quorum: every member answers healthy (up to 90 s, like the demo's raft-quorum check), then CRUD.
	flow_ssh "$port_base" "e='etcdctl --cacert $s/ca.crt --cert $s/node01.crt --key $s/node01.key --endpoints $endpoints --command-timeout=5s'
		i=0; until \$e endpoint health >/dev/null 2>&1; do i=\$((i+1)); [ \$i -lt 180 ] || { \$e endpoint health; exit 1; }; sleep 0.5; done
		echo quorum \$(\$e endpoint status | wc -l) members
		\$e put plasma-flow ok >/dev/null && [ \"\$(\$e get --print-value-only plasma-flow)\" = ok ] && \$e del plasma-flow >/dev/null && echo crud ok" \
		|| { echo "checks-failed"; return 1; }
	echo "checked $(since "$t0")"
}
