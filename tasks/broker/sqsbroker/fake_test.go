package sqsbroker_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSQS is an in-process SQS server (AWS JSON protocol) that keeps the
// rules goaws does not: visibility timeouts to the millisecond, receipt
// handles that change on every receive (only the latest one deletes or
// changes visibility), ApproximateReceiveCount, and a redrive policy
// applied on receive once a message was received maxReceiveCount times.
type fakeSQS struct {
	srv *httptest.Server

	mu     sync.Mutex
	queues map[string]*fakeQueue // by name
	calls  map[string]int        // by action
	seq    int
}

type fakeQueue struct {
	name, url, arn string
	attrs          map[string]string
	vis            time.Duration
	maxReceive     int
	dlq            string // name
	msgs           []*fakeMsg
}

type fakeMsg struct {
	id, body  string
	handle    string
	receives  int
	visibleAt time.Time
}

func newFakeSQS(t *testing.T) *fakeSQS {
	f := &fakeSQS{queues: map[string]*fakeQueue{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the broker URL of the fake.
func (f *fakeSQS) url(params string) string {
	return "sqs://?endpoint=" + f.srv.URL + "&region=us-east-1&anonymous=true&" + params
}

func (f *fakeSQS) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}

// bodies returns the bodies of the messages in queue name.
func (f *fakeSQS) bodies(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[name]
	if q == nil {
		return nil
	}
	var out []string
	for _, m := range q.msgs {
		out = append(out, m.body)
	}
	return out
}

func (f *fakeSQS) attrs(name string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.queues[name]; q != nil {
		return q.attrs
	}
	return nil
}

type apiError struct {
	code, msg string
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func (f *fakeSQS) serve(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls[action]++
	f.mu.Unlock()
	var out any
	var aerr *apiError
	if action == "ReceiveMessage" {
		out, aerr = f.receive(r, in)
	} else {
		f.mu.Lock()
		out, aerr = f.do(action, in)
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if aerr != nil {
		w.Header().Set("x-amzn-query-error", aerr.code+";Sender")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + aerr.code, "message": aerr.msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func num(m map[string]any, k string) int {
	n, _ := m[k].(float64)
	return int(n)
}

func (f *fakeSQS) queueOf(in map[string]any) (*fakeQueue, *apiError) {
	u := str(in, "QueueUrl")
	name := u[strings.LastIndex(u, "/")+1:]
	q := f.queues[name]
	if q == nil || q.url != u {
		return nil, &apiError{"QueueDoesNotExist", "no queue " + u}
	}
	return q, nil
}

func (f *fakeSQS) setAttrs(q *fakeQueue, attrs map[string]any) *apiError {
	for k, v := range attrs {
		s, _ := v.(string)
		q.attrs[k] = s
		switch k {
		case "VisibilityTimeout":
			n, err := strconv.Atoi(s)
			if err != nil {
				return &apiError{"InvalidAttributeValue", k}
			}
			q.vis = time.Duration(n) * time.Second
		case "RedrivePolicy":
			var p struct {
				MaxReceiveCount     string `json:"maxReceiveCount"`
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			}
			if err := json.Unmarshal([]byte(s), &p); err != nil {
				return &apiError{"InvalidAttributeValue", k}
			}
			n, err := strconv.Atoi(p.MaxReceiveCount)
			name := p.DeadLetterTargetArn[strings.LastIndex(p.DeadLetterTargetArn, ":")+1:]
			if err != nil || n < 1 || f.queues[name] == nil {
				return &apiError{"InvalidAttributeValue", k}
			}
			q.maxReceive, q.dlq = n, name
		}
	}
	return nil
}

func (f *fakeSQS) do(action string, in map[string]any) (any, *apiError) {
	now := time.Now()
	switch action {
	case "CreateQueue", "GetQueueUrl":
		name := str(in, "QueueName")
		q := f.queues[name]
		if q == nil {
			if action == "GetQueueUrl" {
				return nil, &apiError{"QueueDoesNotExist", name}
			}
			q = &fakeQueue{name: name, url: f.srv.URL + "/123456789012/" + name, arn: "arn:aws:sqs:us-east-1:123456789012:" + name, attrs: map[string]string{}, vis: 30 * time.Second}
			attrs, _ := in["Attributes"].(map[string]any)
			if err := f.setAttrs(q, attrs); err != nil {
				return nil, err
			}
			f.queues[name] = q
		}
		return map[string]string{"QueueUrl": q.url}, nil
	case "GetQueueAttributes":
		q, err := f.queueOf(in)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Attributes": map[string]string{"QueueArn": q.arn}}, nil
	case "SetQueueAttributes":
		q, err := f.queueOf(in)
		if err != nil {
			return nil, err
		}
		attrs, _ := in["Attributes"].(map[string]any)
		return map[string]any{}, f.setAttrs(q, attrs)
	case "SendMessage", "SendMessageBatch":
		q, err := f.queueOf(in)
		if err != nil {
			return nil, err
		}
		entries := []any{in}
		if action == "SendMessageBatch" {
			entries, _ = in["Entries"].([]any)
		}
		var ok []map[string]string
		for _, e := range entries {
			e := e.(map[string]any)
			f.seq++
			m := &fakeMsg{id: fmt.Sprintf("m%d", f.seq), body: str(e, "MessageBody"), visibleAt: now}
			q.msgs = append(q.msgs, m)
			ok = append(ok, map[string]string{"Id": str(e, "Id"), "MessageId": m.id, "MD5OfMessageBody": md5hex(m.body)})
		}
		if action == "SendMessage" {
			return ok[0], nil
		}
		return map[string]any{"Successful": ok, "Failed": []any{}}, nil
	case "DeleteMessage", "DeleteMessageBatch":
		q, err := f.queueOf(in)
		if err != nil {
			return nil, err
		}
		entries := []any{in}
		if action == "DeleteMessageBatch" {
			entries, _ = in["Entries"].([]any)
		}
		var ok []map[string]string
		for _, e := range entries {
			e := e.(map[string]any)
			h := str(e, "ReceiptHandle")
			for i, m := range q.msgs {
				if m.handle == h { // only the latest handle deletes
					q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
					break
				}
			}
			ok = append(ok, map[string]string{"Id": str(e, "Id")})
		}
		if action == "DeleteMessage" {
			return map[string]any{}, nil
		}
		return map[string]any{"Successful": ok, "Failed": []any{}}, nil
	case "ChangeMessageVisibility":
		q, err := f.queueOf(in)
		if err != nil {
			return nil, err
		}
		h := str(in, "ReceiptHandle")
		for _, m := range q.msgs {
			if m.handle == h {
				if !m.visibleAt.After(now) {
					return nil, &apiError{"MessageNotInflight", "message not in flight"}
				}
				m.visibleAt = now.Add(time.Duration(num(in, "VisibilityTimeout")) * time.Second)
				return map[string]any{}, nil
			}
		}
		return nil, &apiError{"ReceiptHandleIsInvalid", "stale or unknown receipt handle"}
	}
	return nil, &apiError{"InvalidAction", action}
}

func (f *fakeSQS) receive(r *http.Request, in map[string]any) (any, *apiError) {
	max := max(num(in, "MaxNumberOfMessages"), 1)
	deadline := time.Now().Add(time.Duration(num(in, "WaitTimeSeconds")) * time.Second)
	for {
		f.mu.Lock()
		q, err := f.queueOf(in)
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		now := time.Now()
		var out []map[string]any
		for i := 0; i < len(q.msgs) && len(out) < max; i++ {
			m := q.msgs[i]
			if m.visibleAt.After(now) {
				continue
			}
			if q.maxReceive > 0 && m.receives >= q.maxReceive {
				// Received maxReceiveCount times already: to the DLQ.
				q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
				i--
				m.handle, m.receives = "", 0
				f.queues[q.dlq].msgs = append(f.queues[q.dlq].msgs, m)
				continue
			}
			m.receives++
			f.seq++
			m.handle = fmt.Sprintf("%s#%d", m.id, f.seq)
			m.visibleAt = now.Add(q.vis)
			out = append(out, map[string]any{
				"MessageId": m.id, "ReceiptHandle": m.handle, "Body": m.body, "MD5OfBody": md5hex(m.body),
				"Attributes": map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)},
			})
		}
		f.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			return map[string]any{"Messages": out}, nil
		}
		select {
		case <-r.Context().Done():
			return map[string]any{"Messages": out}, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}
