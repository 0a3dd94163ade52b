import LakebedCore

extension RucioAPI {
    /// A page of `list_files` as JSON lines (`long`: with `lumiblocknr`), written without a `JSON` value per file.
    static func fileLines(_ files: [ListedFile], long: Bool) -> String {
        var out = JSONText(capacity: files.count * 128)
        for f in files {
            out.beginObject()
            out.key("scope")
            out.string(f.scope)
            out.key("name")
            out.string(f.name)
            out.key("bytes")
            out.int(f.bytes)
            out.key("adler32")
            out.string(f.adler32)
            out.key("guid")
            out.string(f.guid)
            out.key("events")
            out.int(f.events)
            if long {
                out.key("lumiblocknr")
                out.int(f.lumiblocknr)
            }
            out.endObject()
            out.newline()
        }
        return out.text
    }

    /// A page of `list_dids` as JSON lines: names, or (`long`) scope, name, type, bytes and length.
    static func searchLines(_ hits: [DIDStore.SearchHit], long: Bool) -> String {
        var out = JSONText(capacity: hits.count * (long ? 112 : 32))
        for h in hits {
            if long {
                out.beginObject()
                out.key("scope")
                out.string(h.scope)
                out.key("name")
                out.string(h.name)
                out.key("did_type")
                out.string(h.type.rawValue)
                out.key("bytes")
                out.int(h.bytes)
                out.key("length")
                out.int(h.length)
                out.endObject()
            } else {
                out.string(h.name)
            }
            out.newline()
        }
        return out.text
    }
}
