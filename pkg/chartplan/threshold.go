package chartplan

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/series"
)

// Thresholds: the constant a comparison is stripped of, folded to a number
// (14.4 * (1 - 0.999)) and kept with its operator as seen from the charted
// series, so the chart draws the line the alert crossed.

// threshold records "metric op value" and returns it; flipped is set when
// the scalar was on the left ("80 < x"), so the operator is mirrored. A
// non-constant scalar becomes a condition and a scalar reference, a
// comparison of a 0/1 result a condition; both return false.
func (s *stripper) threshold(n *parser.BinaryExpr, scalar, vector parser.Expr, flipped bool) (series.Threshold, bool) {
	op := n.Op
	if flipped {
		op = mirror(op)
	}
	if isZeroOne(vector) {
		// "(x > bool 4) == 1" and "absent(x) == 1" compare a 0/1 result;
		// the line would mean nothing on the chart of x.
		s.conditions = append(s.conditions, op.String()+" "+scalar.String()+" (on a 0/1 result)")
		return series.Threshold{}, false
	}
	v, err := evalScalar(scalar)
	if err != nil {
		s.conditions = append(s.conditions, op.String()+" "+scalar.String())
		s.refs = append(s.refs, refCandidate{op: op.String(), scalar: true,
			expr: &parser.Call{Func: parser.Functions["vector"], Args: parser.Expressions{unwrapParens(scalar)}}})
		return series.Threshold{}, false
	}
	t := series.Threshold{Op: op.String(), Value: v}
	s.thresholds = append(s.thresholds, t)
	return t, true
}

// isZeroOne reports whether e yields only 0/1 values: a bool comparison or absent().
func isZeroOne(e parser.Expr) bool {
	switch n := unwrapParens(e).(type) {
	case *parser.BinaryExpr:
		return n.Op.IsComparisonOperator() && n.ReturnBool
	case *parser.Call:
		return absentInner(n) != nil
	}
	return false
}

func mirror(op parser.ItemType) parser.ItemType {
	switch op {
	case parser.GTR:
		return parser.LSS
	case parser.LSS:
		return parser.GTR
	case parser.GTE:
		return parser.LTE
	case parser.LTE:
		return parser.GTE
	}
	return op // == and != are symmetric
}

var errNotConstant = errors.New("not a constant")

// evalScalar folds constant scalar expressions such as (14.4 * (1 - 0.999)).
func evalScalar(e parser.Expr) (float64, error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, nil
	case *parser.ParenExpr:
		return evalScalar(n.Expr)
	case *parser.StepInvariantExpr:
		return evalScalar(n.Expr)
	case *parser.UnaryExpr:
		v, err := evalScalar(n.Expr)
		if err != nil {
			return 0, err
		}
		if n.Op == parser.SUB {
			return -v, nil
		}
		return v, nil
	case *parser.DurationExpr:
		if n.Op == parser.SUB && n.LHS == nil {
			v, err := evalScalar(n.RHS)
			return -v, err
		}
		if n.LHS == nil || n.RHS == nil {
			return 0, errNotConstant
		}
		return evalBinary(n.Op, n.LHS, n.RHS)
	case *parser.BinaryExpr:
		if n.Op.IsComparisonOperator() && !n.ReturnBool {
			return 0, errNotConstant
		}
		return evalBinary(n.Op, n.LHS, n.RHS)
	case *parser.Call:
		if n.Func != nil && n.Func.Name == "pi" {
			return math.Pi, nil
		}
	}
	return 0, errNotConstant
}

func evalBinary(op parser.ItemType, l, r parser.Expr) (float64, error) {
	a, err := evalScalar(l)
	if err != nil {
		return 0, err
	}
	b, err := evalScalar(r)
	if err != nil {
		return 0, err
	}
	switch op {
	case parser.ADD:
		return a + b, nil
	case parser.SUB:
		return a - b, nil
	case parser.MUL:
		return a * b, nil
	case parser.DIV:
		return a / b, nil
	case parser.MOD:
		return math.Mod(a, b), nil
	case parser.POW:
		return math.Pow(a, b), nil
	case parser.ATAN2:
		return math.Atan2(a, b), nil
	case parser.EQLC:
		return boolf(a == b), nil
	case parser.NEQ:
		return boolf(a != b), nil
	case parser.GTR:
		return boolf(a > b), nil
	case parser.LSS:
		return boolf(a < b), nil
	case parser.GTE:
		return boolf(a >= b), nil
	case parser.LTE:
		return boolf(a <= b), nil
	}
	return 0, errNotConstant
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func thresholdKey(th []series.Threshold) string {
	keys := make([]string, len(th))
	for i, t := range th {
		keys[i] = FormatThreshold(t)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// FormatThreshold renders a threshold value compactly ("80", "0.0144").
func FormatThreshold(t series.Threshold) string {
	return t.Op + " " + strconv.FormatFloat(t.Value, 'g', 6, 64)
}
