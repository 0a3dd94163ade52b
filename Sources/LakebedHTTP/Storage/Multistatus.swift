import Foundation
import LakebedCore

/// A WebDAV `207 Multi-Status` answer to PROPFIND (RFC 4918 §9.1): one `response` per resource with its live properties.
/// Hrefs are absolute URL paths, which is what Rucio's webdav client compares with the PFN's path.
struct Multistatus {
    private var body = ""

    mutating func add(href: String, name: String, entry: RSEStorage.Entry) {
        var props = "    <d:displayname>\(Self.escape(name))</d:displayname>\n"
        switch entry {
        case .collection(let modified):
            props += "    <d:resourcetype><d:collection/></d:resourcetype>\n"
            props += "    <d:getlastmodified>\(WebDAVAPI.httpDate(modified))</d:getlastmodified>\n"
        case .file(let size, let modified):
            props += "    <d:resourcetype/>\n"
            props += "    <d:getcontentlength>\(size)</d:getcontentlength>\n"
            props += "    <d:getcontenttype>application/octet-stream</d:getcontenttype>\n"
            props += "    <d:getlastmodified>\(WebDAVAPI.httpDate(modified))</d:getlastmodified>\n"
        }
        body += " <d:response>\n  <d:href>\(Self.escape(href))</d:href>\n  <d:propstat>\n   <d:prop>\n\(props)   </d:prop>\n"
        body += "   <d:status>HTTP/1.1 200 OK</d:status>\n  </d:propstat>\n </d:response>\n"
    }

    var xml: String { "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\">\n" + body + "</d:multistatus>\n" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
