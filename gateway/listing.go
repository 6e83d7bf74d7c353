package gateway

import (
	"encoding/json"
	"slices"

	"github.com/sesame-share/sesame"
)

// The list calls' bodies as filters: the API's handlers and the admin CLI
// (cmd/sesame) read them with the same code, so both take the same
// filters, orders and cursors.

// LinkList reads the body of share/link/list.
func LinkList(body []byte) (sesame.LinkFilter, error) {
	var req linkListRequest
	if err := decodeJSON(body, &req); err != nil {
		return sesame.LinkFilter{}, err
	}
	return req.filter()
}

func (req linkListRequest) filter() (sesame.LinkFilter, error) {
	if err := (common{BucketID: req.BucketID}).check(); err != nil {
		return sesame.LinkFilter{}, err
	}
	conds, err := parseFilter(req.Filter, sesame.LinkFields, sesame.LinkFieldAliases)
	if err != nil {
		return sesame.LinkFilter{}, err
	}
	desc, by, size, after, err := paging(req.Order, req.OrderBy, req.Size, req.Last, linkOrders(), decodeCursor)
	if err != nil {
		return sesame.LinkFilter{}, err
	}
	if slices.Contains(objectOnlyOrders, by) {
		by = "created_at"
	}
	return sesame.LinkFilter{BucketID: deref(req.BucketID), Conds: conds, OrderBy: by, Desc: desc, Size: size, After: after}, nil
}

// AuditList reads the body of audit/list: newest first unless it says.
func AuditList(body []byte) (sesame.AuditFilter, error) {
	var req auditListRequest
	if err := decodeJSON(body, &req); err != nil {
		return sesame.AuditFilter{}, err
	}
	return req.filter()
}

func (req auditListRequest) filter() (sesame.AuditFilter, error) {
	conds, desc, size, after, err := newestFirst(req.Filter, sesame.AuditFields, req.Order, req.Size, req.Last)
	return sesame.AuditFilter{Conds: conds, Desc: desc, Size: size, After: after}, err
}

// NotificationList reads the body of notifications/list: newest first
// unless it says.
func NotificationList(body []byte) (sesame.NotificationFilter, error) {
	var req notificationListRequest
	if err := decodeJSON(body, &req); err != nil {
		return sesame.NotificationFilter{}, err
	}
	return req.filter()
}

func (req notificationListRequest) filter() (sesame.NotificationFilter, error) {
	conds, desc, size, after, err := newestFirst(req.Filter, sesame.NotificationFields, req.Order, req.Size, req.Last)
	return sesame.NotificationFilter{Conds: conds, Desc: desc, Size: size, After: after}, err
}

// newestFirst reads the filter and paging of a list ordered by time only,
// newest first by default.
func newestFirst(raw map[string]json.RawMessage, fields map[string]sesame.FieldType, order *string, size *int, last *string) ([]sesame.Cond, bool, int, *sesame.Cursor, error) {
	conds, err := parseFilter(raw, fields, nil)
	if err != nil {
		return nil, false, 0, nil, err
	}
	if order == nil {
		d := "desc"
		order = &d
	}
	desc, _, n, after, err := paging(order, nil, size, last, []string{"created_at"}, decodeCursor)
	return conds, desc, n, after, err
}
