// A dependency-token queue between two units: tokens carry no data, so it is a counter of
// 0..DEPTH tokens. A push when full and a pop when empty are ignored (the units wait on
// full_o / empty_o first); push and pop may share a cycle.
`default_nettype none

module tessera_token_queue #(
    parameter integer LOG_DEPTH = 4
) (
    input  wire               clk_i,
    input  wire               rst_ni,
    input  wire               clear_i,
    input  wire               push_i,
    input  wire               pop_i,
    output wire               full_o,
    output wire               empty_o,
    output wire [LOG_DEPTH:0] count_o
);
  localparam integer DEPTH = 1 << LOG_DEPTH;

  reg [LOG_DEPTH:0] cnt_q, cnt_d;
  wire full = cnt_q == DEPTH[LOG_DEPTH:0];
  wire empty = cnt_q == {(LOG_DEPTH+1){1'b0}};
  wire do_push = push_i && !full;
  wire do_pop = pop_i && !empty;

  always @* begin
    cnt_d = cnt_q;
    if (do_push && !do_pop) cnt_d = cnt_q + {{LOG_DEPTH{1'b0}}, 1'b1};
    if (do_pop && !do_push) cnt_d = cnt_q - {{LOG_DEPTH{1'b0}}, 1'b1};
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) cnt_q <= {(LOG_DEPTH+1){1'b0}};
    else cnt_q <= cnt_d;
  end

  assign full_o = full;
  assign empty_o = empty;
  assign count_o = cnt_q;
endmodule

`default_nettype wire
