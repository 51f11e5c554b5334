// The GEMM core: one full block product per cycle, as a grid of small dot products.
// acc_o[b][n] = acc_i[b][n] + sum_k inp_i[b][k] * wgt_i[n][k] (signed int8 x int8, int32
// wrap). Packing, LSB first: inp[b][k] at (b*BLOCK_IN+k)*8, wgt[n][k] at (n*BLOCK_IN+k)*8,
// acc[b][n] at (b*BLOCK_OUT+n)*32. With en_i low it passes acc_i through and computes
// nothing, so an idle core costs the simulator next to nothing.
`default_nettype none

module tessera_gemm_core (
    input  wire                en_i,
    input  wire [INP_BITS-1:0] inp_i,
    input  wire [WGT_BITS-1:0] wgt_i,
    input  wire [ACC_BITS-1:0] acc_i,
    output wire [ACC_BITS-1:0] acc_o
);
`include "tessera_params.vh"

  genvar b, n;
  generate
    for (b = 0; b < CFG_BATCH; b = b + 1) begin : g_row
      for (n = 0; n < CFG_BLOCK_OUT; n = n + 1) begin : g_col
        reg [31:0] dot;
        reg signed [15:0] prod;
        integer k;
        always @* begin
          dot = acc_i[(b*CFG_BLOCK_OUT+n)*ACC_W +: ACC_W];
          prod = 16'sd0;
          k = 0;
          if (en_i) begin
            for (k = 0; k < CFG_BLOCK_IN; k = k + 1) begin
              prod = $signed(inp_i[(b*CFG_BLOCK_IN+k)*INP_W +: INP_W])
                   * $signed(wgt_i[(n*CFG_BLOCK_IN+k)*WGT_W +: WGT_W]);
              dot = dot + {{16{prod[15]}}, prod};
            end
          end
        end
        assign acc_o[(b*CFG_BLOCK_OUT+n)*ACC_W +: ACC_W] = dot;
      end
    end
  endgenerate
endmodule

`default_nettype wire
