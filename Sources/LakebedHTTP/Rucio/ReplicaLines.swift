import LakebedCore

/// A page of `list_replicas` written as JSON lines: the same text as `RucioAPI.replicaDoc(...).serialized()`, with
/// what is the same for every file on an RSE (its protocols in rank order, the fixed part of each PFN's description)
/// worked out once per page instead of once per file.
struct ReplicaLines {
    let allStates: Bool
    let parents: Bool
    /// Per RSE id: its readable protocols in the order PFNs are ranked, and the text around a PFN's priority.
    private var perRSE: [String: (protocols: [RSEProtocol], head: String, tail: String)] = [:]

    init(allStates: Bool, parents: Bool) {
        self.allStates = allStates
        self.parents = parents
    }

    /// The lines of a page.
    mutating func text(_ files: [ReplicaStore.FileReplicas]) -> String {
        var out = JSONText(capacity: files.count * 400)
        for f in files { write(f, to: &out) }
        return out.text
    }

    private mutating func rse(_ rep: (rse: RSE, state: ReplicaState, path: String, protocols: [RSEProtocol])) -> (
        protocols: [RSEProtocol], head: String, tail: String
    ) {
        if let known = perRSE[rep.rse.id] { return known }
        let sorted = rep.protocols.sorted {
            ($0.priority(domain: "wan", operation: "read") ?? 99, $0.scheme) < ($1.priority(domain: "wan", operation: "read") ?? 99, $1.scheme)
        }
        var head = JSONText()
        head.beginObject()
        head.key("rse_id")
        head.string(rep.rse.id)
        head.key("rse")
        head.string(rep.rse.rse)
        head.key("type")
        head.string(rep.rse.rseType)
        head.key("volatile")
        head.bool(rep.rse.volatile)
        head.key("domain")
        head.string("wan")
        head.key("priority")
        let entry = (sorted, head.text, ", \"client_extract\": false}")
        perRSE[rep.rse.id] = entry
        return entry
    }

    /// One file's line.
    mutating func write(_ f: ReplicaStore.FileReplicas, to out: inout JSONText) {
        var pfns: [(pfn: String, head: String, tail: String)] = []
        var perReplica: [[String]] = []
        for rep in f.replicas {
            let r = rse(rep)
            var list: [String] = []
            for p in r.protocols {
                let pfn = p.pfn(path: rep.path)
                list.append(pfn)
                pfns.append((pfn, r.head, r.tail))
            }
            perReplica.append(list)
        }
        // Two replicas with one PFN or one RSE name (never in a sane lake) would share a key: the general form handles that.
        if pfns.count > 1, Set(pfns.map(\.pfn)).count != pfns.count || Set(f.replicas.map(\.rse.rse)).count != f.replicas.count {
            out.value(RucioAPI.replicaDoc(f, allStates: allStates, parents: parents))
            out.newline()
            return
        }
        out.beginObject()
        out.key("scope")
        out.string(f.scope)
        out.key("name")
        out.string(f.name)
        out.key("bytes")
        out.int(f.bytes)
        out.key("md5")
        out.string(f.md5)
        out.key("adler32")
        out.string(f.adler32)
        out.key("pfns")
        out.beginObject()
        for (i, p) in pfns.enumerated() {
            out.key(p.pfn)
            out.raw(p.head)
            out.raw(String(i + 1))
            out.raw(p.tail)
        }
        out.endObject()
        out.key("rses")
        out.beginObject()
        for (rep, list) in zip(f.replicas, perReplica) {
            out.key(rep.rse.rse)
            out.beginArray()
            for pfn in list {
                out.element()
                out.string(pfn)
            }
            out.endArray()
        }
        out.endObject()
        out.key("states")
        out.beginObject()
        for rep in f.replicas {
            out.key(rep.rse.rse)
            out.string(rep.state.name)
        }
        out.endObject()
        if parents {
            out.key("parents")
            out.beginArray()
            for p in f.parents {
                out.element()
                out.string(p)
            }
            out.endArray()
        }
        out.endObject()
        out.newline()
    }
}
