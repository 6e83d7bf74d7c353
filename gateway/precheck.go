package gateway

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-share/sesame"
)

// The prechecks look at the form of every field of a request before its
// handler runs, and gather what is wrong, so that errors[] lists every
// invalid field (up to sesame.MaxFieldErrors) and not only the first one a
// handler or the core would stop at. They decide nothing new: each calls
// the check that the handler or the core applies to the same field later.

func checkObjectID(errs *sesame.Problems, src string, v *string) {
	if v != nil && *v != "" {
		errs.Add(sesame.CheckObjectID(src, *v))
	}
}

func checkName(errs *sesame.Problems, src string, v *string) {
	if v != nil && *v != "" {
		errs.Add(sesame.CheckName(src, *v))
	}
}

func checkFolder(errs *sesame.Problems, src string, v *string) {
	if v != nil {
		_, err := sesame.SplitPath(src, *v)
		errs.Add(err)
	}
}

func checkEnum(errs *sesame.Problems, src string, v *string, allowed ...string) {
	if v != nil && *v != "" && !slices.Contains(allowed, *v) {
		errs.Addf("NotEnumMember", src, "%s must be one of %s, not %q", strings.TrimPrefix(src, "/"), strings.Join(allowed, ", "), *v)
	}
}

func (r *getRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	checkObjectID(errs, "/id", r.ID)
	checkEnum(errs, "/transfer_method", r.TransferMethod, sesame.TransferMultipart, sesame.TransferDestURL)
}

func (r *archiveRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	for i := range r.IDs {
		checkObjectID(errs, fmt.Sprintf("/ids/%d", i), &r.IDs[i])
	}
	checkEnum(errs, "/format", r.Format, "zip", "tar")
	checkEnum(errs, "/transfer_method", r.TransferMethod, sesame.TransferMultipart, sesame.TransferDestURL)
}

func (r *deleteRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	checkObjectID(errs, "/id", r.ID)
}

func (r *folderCreateRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	checkName(errs, "/name", r.Name)
	checkObjectID(errs, "/parent_id", r.ParentID)
	checkFolder(errs, "/folder", r.Folder)
	errs.Add(sesame.CheckMetaTags("/", r.Metadata, r.Tags))
}

func (r *updateRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	checkObjectID(errs, "/id", r.ID)
	checkName(errs, "/name", r.Name)
	checkObjectID(errs, "/parent_id", r.ParentID)
	checkFolder(errs, "/folder", r.Folder)
	if r.UpdatedAt != nil {
		if _, err := sesame.ParseTime(*r.UpdatedAt); err != nil {
			errs.Addf("BadFormatDateTime", "/updated_at", "updated_at must be an RFC 3339 time")
		}
	}
	errs.Add(sesame.CheckMetaTags("/", r.Metadata, r.Tags))
	errs.Add(sesame.CheckMetaTags("/add_", r.AddMetadata, r.AddTags))
	checkEnum(errs, "/add_password_algorithm", r.AddPasswordAlgorithm, sesame.PasswordAlgorithms...)
}

// precheck of a put looks at the JSON body; a multipart put's request part
// goes through spec, which runs it too.
func (r *putRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	checkEnum(errs, "/transfer_method", r.TransferMethod, sesame.TransferMultipart, sesame.TransferPostURL, sesame.TransferPutURL,
		sesame.TransferSourceURL, "direct")
	_, err := r.declared()
	errs.Add(err)
	if r.Format != nil && !sesame.KnownFormat(*r.Format) {
		errs.Addf("NotEnumMember", "/format", "format %q is not a known file format (use upper case, such as PDF or PNG)", *r.Format)
	}
	checkName(errs, "/name", r.Name)
	checkObjectID(errs, "/parent_id", r.ParentID)
	checkFolder(errs, "/folder", r.Folder)
	errs.Add(sesame.CheckMetaTags("/", r.Metadata, r.Tags))
	checkEnum(errs, "/password_algorithm", r.PasswordAlgorithm, sesame.PasswordAlgorithms...)
	checkEnum(errs, "/password_algorithm", r.PasswordAlgorithm, sesame.PasswordAlgorithms...)
}

func (r *listRequest) precheck(errs *sesame.Problems) {
	r.checkInto(errs)
	_, err := parseFilter(r.Filter, sesame.ObjectFields, nil)
	errs.Add(err)
	_, _, _, _, err = paging(r.Order, r.OrderBy, r.Size, r.Last, sesame.ObjectOrderFields, decodeCursor)
	errs.Add(err)
}

func (r *linkListRequest) precheck(errs *sesame.Problems) {
	common{BucketID: r.BucketID}.checkInto(errs)
	_, err := parseFilter(r.Filter, sesame.LinkFields, sesame.LinkFieldAliases)
	errs.Add(err)
	_, _, _, _, err = paging(r.Order, r.OrderBy, r.Size, r.Last, linkOrders(), decodeCursor)
	errs.Add(err)
}

// linkOrders are the order_by values of share/link/list.
func linkOrders() []string { return append(slices.Clone(sesame.LinkOrderFields), objectOnlyOrders...) }

func (r *linkCreateRequest) precheck(errs *sesame.Problems) {
	common{BucketID: r.BucketID}.checkInto(errs)
	if r.Links == nil {
		errs.Addf("FieldRequired", "/links", "links is required")
	}
	_, err := linkItems(r, "")
	errs.Add(err)
}

func (r *linkSendRequest) precheck(errs *sesame.Problems) {
	common{BucketID: r.BucketID}.checkInto(errs)
	_, err := r.toDomain()
	errs.Add(err)
}

func (r *linkIDRequest) precheck(errs *sesame.Problems) {
	common{BucketID: r.BucketID}.checkInto(errs)
	switch {
	case r.ID == nil || *r.ID == "":
		errs.Addf("FieldRequired", "/id", "id is required")
	default:
		errs.Add(sesame.CheckID("/id", sesame.PrefixLink, *r.ID))
	}
}

func (r *linkDeleteRequest) precheck(errs *sesame.Problems) {
	common{BucketID: r.BucketID}.checkInto(errs)
	switch {
	case r.IDs == nil:
		errs.Addf("FieldRequired", "/ids", "ids is required")
	case len(r.IDs) == 0:
		errs.Addf("BelowMinItems", "/ids", "ids must name at least one link")
	case len(r.IDs) > 100:
		errs.Addf("AboveMaxItems", "/ids", "ids may name at most 100 links")
	}
	for i, id := range r.IDs {
		errs.Add(sesame.CheckID(fmt.Sprintf("/ids/%d", i), sesame.PrefixLink, id))
	}
}
