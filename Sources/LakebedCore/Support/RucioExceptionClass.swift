/// The exception classes of `rucio.common.exception` (and the few Python builtins and Flask/werkzeug errors) that Lakebed
/// raises, each with the HTTP status Rucio's REST layer answers it with unless a route says otherwise.
///
/// This is the one list: a class that is not here cannot be raised, and every class has its status (a new case
/// without one does not compile). The raw value is what the client sees in `ExceptionClass` and turns back into an
/// exception of the same name.
public enum RucioExceptionClass: String, Sendable, CaseIterable {
    // 400 Bad Request
    case didFilterSyntaxError = "DIDFilterSyntaxError"
    case identityError = "IdentityError"
    case inputValidationError = "InputValidationError"
    case invalidAccountType = "InvalidAccountType"
    case invalidMetadata = "InvalidMetadata"
    case invalidObject = "InvalidObject"
    case invalidPath = "InvalidPath"
    case invalidRSEExpression = "InvalidRSEExpression"
    case invalidType = "InvalidType"
    case invalidValueForKey = "InvalidValueForKey"
    case keyError = "KeyError"  // a Python builtin
    case missingParameter = "MissingParameter"
    case openDataDuplicateDOI = "OpenDataDuplicateDOI"
    case openDataDuplicateRecordID = "OpenDataDuplicateRecordID"
    case openDataError = "OpenDataError"
    case openDataInvalidState = "OpenDataInvalidState"
    case openDataInvalidStateUpdate = "OpenDataInvalidStateUpdate"
    case rucioException = "RucioException"
    case typeError = "TypeError"  // a Python builtin
    case unsupportedKeyType = "UnsupportedKeyType"
    case unsupportedMetadataPlugin = "UnsupportedMetadataPlugin"
    case unsupportedValueType = "UnsupportedValueType"
    case valueError = "ValueError"  // a Python builtin
    // 401 Unauthorized
    case accessDenied = "AccessDenied"
    case cannotAuthenticate = "CannotAuthenticate"
    case cannotAuthorize = "CannotAuthorize"
    // 404 Not Found
    case accountNotFound = "AccountNotFound"
    case configNotFound = "ConfigNotFound"
    case counterNotFound = "CounterNotFound"
    case dataIdentifierNotFound = "DataIdentifierNotFound"
    case distanceNotFound = "DistanceNotFound"
    case identityNotFound = "IdentityNotFound"
    case keyNotFound = "KeyNotFound"
    case lifetimeExceptionNotFound = "LifetimeExceptionNotFound"
    case notFound = "NotFound"  // werkzeug's, for a path or method no route has
    case rseAttributeNotFound = "RSEAttributeNotFound"
    case rseNotFound = "RSENotFound"
    case rseOperationNotSupported = "RSEOperationNotSupported"
    case rseProtocolDomainNotSupported = "RSEProtocolDomainNotSupported"
    case rseProtocolNotSupported = "RSEProtocolNotSupported"
    case replicaNotFound = "ReplicaNotFound"
    case requestNotFound = "RequestNotFound"
    case ruleNotFound = "RuleNotFound"
    case scopeNotFound = "ScopeNotFound"
    case sourceNotFound = "SourceNotFound"
    case subscriptionNotFound = "SubscriptionNotFound"
    case openDataDataIdentifierNotFound = "OpenDataDataIdentifierNotFound"
    // 405 Method Not Allowed
    case methodNotAllowed = "MethodNotAllowed"  // werkzeug's, for a path or method no route has
    // 406 Not Acceptable
    case unsupportedRequestedContentType = "UnsupportedRequestedContentType"
    // 409 Conflict
    case dataIdentifierAlreadyExists = "DataIdentifierAlreadyExists"
    case duplicate = "Duplicate"
    case duplicateContent = "DuplicateContent"
    case duplicateRule = "DuplicateRule"
    case fileAlreadyExists = "FileAlreadyExists"
    case openDataDataIdentifierAlreadyExists = "OpenDataDataIdentifierAlreadyExists"
    case insufficientAccountLimit = "InsufficientAccountLimit"
    case insufficientTargetRSEs = "InsufficientTargetRSEs"
    case lifetimeExceptionDuplicate = "LifetimeExceptionDuplicate"
    case invalidReplicationRule = "InvalidReplicationRule"
    case invalidRuleWeight = "InvalidRuleWeight"
    case manualRuleApprovalBlocked = "ManualRuleApprovalBlocked"
    case rseProtocolPriorityError = "RSEProtocolPriorityError"
    case replicationRuleCreationTemporaryFailed = "ReplicationRuleCreationTemporaryFailed"
    case ruleReplaceFailed = "RuleReplaceFailed"
    case scratchDiskLifetimeConflict = "ScratchDiskLifetimeConflict"
    case stagingAreaRuleRequiresLifetime = "StagingAreaRuleRequiresLifetime"
    case subscriptionDuplicate = "SubscriptionDuplicate"
    case unsupportedOperation = "UnsupportedOperation"
    case unsupportedStatus = "UnsupportedStatus"
    // 412 Precondition Failed
    case fileConsistencyMismatch = "FileConsistencyMismatch"
    // 413 Payload Too Large
    case requestEntityTooLarge = "RequestEntityTooLarge"
    // 423 Locked
    case replicaIsLocked = "ReplicaIsLocked"
    // 500 Internal Server Error: the server's own configuration is wrong, not the request
    case errorLoadingCredentials = "ErrorLoadingCredentials"
    // 503 Service Unavailable
    case resourceTemporaryUnavailable = "ResourceTemporaryUnavailable"

    /// The status Rucio's REST layer answers this class with (`generate_http_error_flask(status, error)` in each route).
    public var status: Int {
        switch self {
        case .didFilterSyntaxError, .identityError, .inputValidationError, .invalidAccountType, .invalidMetadata, .invalidObject, .invalidPath,
            .invalidRSEExpression, .invalidType, .invalidValueForKey, .keyError, .missingParameter, .rucioException, .typeError, .unsupportedKeyType,
            .unsupportedMetadataPlugin, .unsupportedValueType, .valueError, .openDataDuplicateDOI, .openDataDuplicateRecordID, .openDataError,
            .openDataInvalidState, .openDataInvalidStateUpdate:
            return 400
        case .accessDenied, .cannotAuthenticate, .cannotAuthorize:
            return 401
        case .accountNotFound, .configNotFound, .counterNotFound, .dataIdentifierNotFound, .distanceNotFound, .identityNotFound, .keyNotFound,
            .lifetimeExceptionNotFound, .notFound, .rseAttributeNotFound, .rseNotFound, .rseOperationNotSupported, .rseProtocolDomainNotSupported,
            .rseProtocolNotSupported, .replicaNotFound, .requestNotFound, .ruleNotFound, .scopeNotFound, .sourceNotFound, .subscriptionNotFound,
            .openDataDataIdentifierNotFound:
            return 404
        case .methodNotAllowed:
            return 405
        case .unsupportedRequestedContentType:
            return 406
        case .dataIdentifierAlreadyExists, .duplicate, .duplicateContent, .duplicateRule, .fileAlreadyExists, .openDataDataIdentifierAlreadyExists,
            .insufficientAccountLimit,
            .insufficientTargetRSEs, .lifetimeExceptionDuplicate, .invalidReplicationRule, .invalidRuleWeight, .manualRuleApprovalBlocked,
            .rseProtocolPriorityError, .replicationRuleCreationTemporaryFailed, .ruleReplaceFailed, .scratchDiskLifetimeConflict,
            .stagingAreaRuleRequiresLifetime, .subscriptionDuplicate, .unsupportedOperation, .unsupportedStatus:
            return 409
        case .fileConsistencyMismatch:
            return 412
        case .requestEntityTooLarge:
            return 413
        case .replicaIsLocked:
            return 423
        case .errorLoadingCredentials:
            return 500
        case .resourceTemporaryUnavailable:
            return 503
        }
    }
}
