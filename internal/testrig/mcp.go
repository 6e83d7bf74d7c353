package testrig

import (
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ToolText joins the text contents of an MCP tool's result: what an agent
// reads, an error's message included.
func ToolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
