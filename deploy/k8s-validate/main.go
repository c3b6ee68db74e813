// k8s-validate reads Kubernetes manifests (a multi-document YAML stream, as `helm template`
// prints it) on stdin and decodes each document strictly into its Kubernetes API type:
// an unknown or misspelt field, a wrong value type or a duplicate key fails, offline, with
// the types of the k8s.io/api module this program is built with. It then checks what the
// API server would only check at admission or what a deployment needs to work: workload
// selectors match their pod labels, every container has resource requests and a readiness
// probe, PodDisruptionBudgets and Services select some workload of the stream.
//
// Usage: helm template ... | k8s-validate
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
}

func newObject(apiVersion, kind string) (interface{}, error) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "networking/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "networking/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	}
	return nil, fmt.Errorf("unknown apiVersion/kind %s/%s (not served by this validator)", apiVersion, kind)
}

// documents splits a YAML stream on lines that are exactly "---".
func documents(r io.Reader) ([]string, error) {
	var docs []string
	var cur bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.String())
	return docs, sc.Err()
}

func blank(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

type workload struct {
	name   string
	labels map[string]string
}

func checkPod(where string, selector *metav1.LabelSelector, tmpl corev1.PodTemplateSpec) []string {
	var errs []string
	if selector == nil {
		errs = append(errs, where+": no selector")
	} else {
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: selector: %v", where, err))
		} else if !sel.Matches(labels.Set(tmpl.Labels)) {
			errs = append(errs, where+": the selector does not match the pod template's labels")
		}
	}
	if len(tmpl.Spec.Containers) == 0 {
		errs = append(errs, where+": no containers")
	}
	for _, c := range tmpl.Spec.Containers {
		if c.Image == "" {
			errs = append(errs, fmt.Sprintf("%s: container %s has no image", where, c.Name))
		}
		if len(c.Resources.Requests) == 0 {
			errs = append(errs, fmt.Sprintf("%s: container %s has no resource requests", where, c.Name))
		}
	}
	return errs
}

func main() {
	docs, err := documents(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading stdin:", err)
		os.Exit(2)
	}
	var errs []string
	var workloads []workload
	type selecting struct {
		where    string
		selector labels.Selector
	}
	var selectors []selecting
	count := 0
	for i, doc := range docs {
		if blank(doc) {
			continue
		}
		var h header
		if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
			errs = append(errs, fmt.Sprintf("document %d: %v", i, err))
			continue
		}
		where := fmt.Sprintf("%s %s", h.Kind, h.Metadata.Name)
		obj, err := newObject(h.APIVersion, h.Kind)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		count++
		if h.Metadata.Name == "" {
			errs = append(errs, fmt.Sprintf("document %d (%s): no metadata.name", i, h.Kind))
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			errs = append(errs, checkPod(where, o.Spec.Selector, o.Spec.Template)...)
			for _, c := range o.Spec.Template.Spec.Containers {
				if c.ReadinessProbe == nil || c.LivenessProbe == nil {
					errs = append(errs, fmt.Sprintf("%s: container %s needs readiness and liveness probes", where, c.Name))
				}
			}
			workloads = append(workloads, workload{where, o.Spec.Template.Labels})
		case *appsv1.StatefulSet:
			errs = append(errs, checkPod(where, o.Spec.Selector, o.Spec.Template)...)
			workloads = append(workloads, workload{where, o.Spec.Template.Labels})
		case *batchv1.Job:
			if len(o.Spec.Template.Spec.Containers) == 0 {
				errs = append(errs, where+": no containers")
			}
			if o.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever &&
				o.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
				errs = append(errs, where+": a Job's restartPolicy must be Never or OnFailure")
			}
		case *batchv1.CronJob:
			spec := o.Spec.JobTemplate.Spec.Template.Spec
			if len(spec.Containers) == 0 {
				errs = append(errs, where+": no containers")
			}
			if spec.RestartPolicy != corev1.RestartPolicyNever &&
				spec.RestartPolicy != corev1.RestartPolicyOnFailure {
				errs = append(errs, where+": a CronJob's restartPolicy must be Never or OnFailure")
			}
			if len(strings.Fields(o.Spec.Schedule)) != 5 {
				errs = append(errs, fmt.Sprintf("%s: schedule %q is not five cron fields", where, o.Spec.Schedule))
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
			if err != nil || o.Spec.Selector == nil {
				errs = append(errs, fmt.Sprintf("%s: bad selector %v", where, err))
			} else {
				selectors = append(selectors, selecting{where, sel})
			}
			if (o.Spec.MinAvailable == nil) == (o.Spec.MaxUnavailable == nil) {
				errs = append(errs, where+": exactly one of minAvailable and maxUnavailable")
			}
		case *corev1.Service:
			if len(o.Spec.Selector) > 0 {
				selectors = append(selectors, selecting{where, labels.SelectorFromSet(o.Spec.Selector)})
			}
			if len(o.Spec.Ports) == 0 {
				errs = append(errs, where+": no ports")
			}
		}
	}
	for _, s := range selectors {
		found := false
		for _, w := range workloads {
			if s.selector.Matches(labels.Set(w.labels)) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, s.where+": selects no workload of the manifests")
		}
	}
	if count == 0 {
		errs = append(errs, "no manifests on stdin")
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "invalid:", e)
		}
		os.Exit(1)
	}
	fmt.Printf("%d manifests valid\n", count)
}
